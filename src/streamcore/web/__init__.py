"""The browser side: the embeddable player (/embed/{token}), the console (/console) and
offline API docs, served from the package's own static folder."""
