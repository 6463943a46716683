"""Notifications: a message to every matching channel when an alert episode opens or
resolves, whatever the component that found it.

The transaction that opens or resolves an alert also writes one outbox row per
enabled channel whose filters match (:func:`clustermgr.notify.outbox.enqueue`);
a dispatcher task beside the watcher sends the rows that are due, retrying with
back-off, so a slow or failing receiver never holds the watcher up and nothing
is lost or sent twice.
"""
