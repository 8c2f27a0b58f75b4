"""LOG_FORMAT=json: one JSON object a line, with no personal data (docs/reliability.md).

Only named, harmless parts of a record are written: time, level, logger, the message with
anything that looks like contact details or a query string masked, the HTTP method, path
(never the query string, never the body, headers or cookies) and status of a request, and
for an exception its type and stack frames but not its message (messages of validation
errors and database errors quote the values that failed, which may be a client's).
"""

from __future__ import annotations

import json
import logging
import re
import traceback
from datetime import UTC, datetime

REDACTED = "[redacted]"
_PATTERNS = [
    # query strings: place names, postcodes and tokens people typed
    (re.compile(r"\?[^\s\"']*"), "?" + REDACTED),
    (re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+"), REDACTED),  # email addresses
    (re.compile(r"(?i)\b(bearer|token|key|password|secret)([=: ]+)\S+"), r"\1\2" + REDACTED),
    (re.compile(r"\+?\d[\d ()-]{7,}\d"), REDACTED),  # phone numbers, long digit runs
    # UK postcodes (a client's area is personal data)
    (re.compile(r"(?i)\b[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}\b"), REDACTED),
]


def scrub(text: str) -> str:
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string must not lose the line
            message = str(record.msg)
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": scrub(message),
        }
        status = getattr(record, "status_code", None)
        if isinstance(status, int):
            entry["status"] = status
        request = getattr(record, "request", None)
        if request is not None and hasattr(request, "path"):
            entry["method"] = str(getattr(request, "method", ""))[:10]
            entry["path"] = scrub(request.path)
        if record.exc_info and record.exc_info[0] is not None:
            kind, _, tb = record.exc_info
            entry["exception"] = {
                "type": f"{kind.__module__}.{kind.__qualname__}",
                "frames": [
                    f"{frame.filename}:{frame.lineno} in {frame.name}"
                    for frame in traceback.extract_tb(tb)
                ],
            }
        return json.dumps(entry, ensure_ascii=False)
