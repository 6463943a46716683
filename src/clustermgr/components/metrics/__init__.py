"""Monitoring: exporters on every server, scraped over SSH into the series store."""
