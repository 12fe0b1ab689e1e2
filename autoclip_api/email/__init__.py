"""The ``email`` capability: the API's mail to people (verification links, password resets,
invitations, security notices).

``base.py`` holds the message and the provider interface, ``log.py`` the default provider (a
JSON-lines outbox under the data dir that the demo and the tests read the links from),
``smtp.py`` the SMTP provider, ``sendgrid.py`` SendGrid's v3 Mail Send API, and ``mailer.py``
the choice among them (``AUTOCLIP_EMAIL_PROVIDER``) and the :class:`Mailer` the API sends through:
it hands each message to the provider on a thread of its own, so no response waits for (or
is timed by) a mail server.
"""
