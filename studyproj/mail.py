"""The mailer that sends password-reset mail, from one URL in the environment.

Django 6.1 replaces EMAIL_BACKEND and the EMAIL_* settings with MAILERS;
django-environ still reads a mail URL into the old names. This turns one into
the other so an operator sets a single variable:

    EMAIL_URL=smtp+tls://user:password@mail.example.com:587
    EMAIL_URL=consolemail://          (print mails on the console)
"""

from typing import Any

import environ

# django-environ's key → the option the backend takes.
_OPTIONS = {
    "EMAIL_HOST": "host",
    "EMAIL_PORT": "port",
    "EMAIL_HOST_USER": "username",
    "EMAIL_HOST_PASSWORD": "password",
    "EMAIL_USE_TLS": "use_tls",
    "EMAIL_USE_SSL": "use_ssl",
    "EMAIL_FILE_PATH": "file_path",
}


def mailer_from_url(url: str) -> dict[str, Any]:
    """A MAILERS entry for a mail URL (smtp://, smtp+tls://, smtp+ssl://,
    consolemail://, filemail://PATH, memorymail://, dummymail://)."""
    config = environ.Env.email_url_config(url)
    options = {
        _OPTIONS[key]: value
        for key, value in config.items()
        if key in _OPTIONS and value not in (None, "")
    }
    if "smtp" not in config["EMAIL_BACKEND"]:
        # Only the SMTP backend takes a host; the others take a file path at most.
        options = {k: v for k, v in options.items() if k == "file_path"}
    else:
        options.pop("file_path", None)
    return {"BACKEND": config["EMAIL_BACKEND"], "OPTIONS": options}
