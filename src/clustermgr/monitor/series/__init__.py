"""The embedded series store: metrics scraped from the servers, raw and rolled up."""
