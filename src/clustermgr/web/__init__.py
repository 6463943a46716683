"""The web app: the GUI (server-rendered pages with htmx) and the REST API, one process."""
