"""Errors and logs never carry client data (docs/security.md, "Errors and logs").

When a page fails, Django logs "Internal Server Error: <path>" with the traceback, and,
when ADMINS is set, emails a report with the request's GET and POST values, headers and
every local variable of every frame. On a casework page those hold names, notes and
answers; on a private link page the path itself is the key to the client's or the
volunteer's page. So, project-wide (settings DEFAULT_EXCEPTION_REPORTER(_FILTER), and a
filter on the django.request logger):

- POST values, GET values, cookies and frame variables are replaced by stars (their
  names stay, so the report is still useful);
- request headers are kept only for a short list of harmless ones;
- the token in /introductions/<token>/, /volunteers/remove/<token>/ and
  /my-meetings/<token>/ is replaced by "[link]" in log messages and reports.
"""

from __future__ import annotations

import logging
import re

from django.views.debug import ExceptionReporter, SafeExceptionReporterFilter

REDACTED_LINK = "[link]"
_PRIVATE_LINK = re.compile(r"/(introductions|volunteers/remove|my-meetings)/[^/?#\s'\"]+")
_SAFE_META = frozenset(
    {
        "REQUEST_METHOD",
        "SERVER_NAME",
        "SERVER_PORT",
        "SERVER_PROTOCOL",
        "CONTENT_TYPE",
        "CONTENT_LENGTH",
        "HTTP_ACCEPT",
        "HTTP_ACCEPT_LANGUAGE",
        "HTTP_USER_AGENT",
        "wsgi.url_scheme",
    }
)


def redact_links(text: str) -> str:
    return _PRIVATE_LINK.sub(lambda m: f"/{m.group(1)}/{REDACTED_LINK}", text)


class ClientDataSafeFilter(SafeExceptionReporterFilter):
    def get_post_parameters(self, request):
        if request is None:
            return {}
        return {key: self.cleansed_substitute for key in request.POST}

    def get_traceback_frame_variables(self, request, tb_frame):
        return [(name, self.cleansed_substitute) for name in tb_frame.f_locals]

    def get_safe_request_meta(self, request):
        if not hasattr(request, "META"):
            return {}
        return {
            key: (redact_links(str(value)) if key in _SAFE_META else self.cleansed_substitute)
            for key, value in request.META.items()
        }

    def get_safe_cookies(self, request):
        return {key: self.cleansed_substitute for key in getattr(request, "COOKIES", {})}


class _ReportedRequest:
    """What the error report templates read of the request, with the path redacted."""

    def __init__(self, request):
        self.path_info = redact_links(request.path_info)
        self.META = {"REQUEST_METHOD": request.META.get("REQUEST_METHOD", "")}
        self.GET, self.FILES, self.COOKIES = request.GET, request.FILES, request.COOKIES


class ClientDataSafeReporter(ExceptionReporter):
    def get_traceback_data(self):
        data = super().get_traceback_data()
        if self.request is not None:
            data["request"] = _ReportedRequest(self.request)
            data["request_GET_items"] = [
                (key, ClientDataSafeFilter.cleansed_substitute) for key in self.request.GET
            ]
            data["request_insecure_uri"] = redact_links(self.request.path)
            if "exception_value" in data:
                data["exception_value"] = redact_links(str(data["exception_value"]))
        return data


class RedactPrivateLinks(logging.Filter):
    """On the django.request logger: private-link tokens out of the message."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact_links(record.msg)
        if record.args:
            args = record.args if isinstance(record.args, tuple) else (record.args,)
            record.args = tuple(redact_links(a) if isinstance(a, str) else a for a in args)
        return True
