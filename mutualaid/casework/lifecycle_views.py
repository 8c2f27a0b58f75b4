"""Data-protection pages for a service's managers: a client's subject access export (JSON
or PDF) and erasure on request (mutualaid/casework/lifecycle.py does the work).

Out of scope: 404 (audited as denied); in scope but not a manager: 403 (audited).
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from mutualaid.accounts.decorators import client_data_view
from mutualaid.audit.services import record_event

from . import lifecycle
from .views import _client, _deny


def _managed_client(request, pk):
    client = _client(request, pk)
    if not lifecycle.can_manage_lifecycle(request.user, client):
        _deny(request, client, "managers only")
        raise PermissionDenied(_("Only a manager of this service can do that."))
    return client


@client_data_view
def subject_access(request, pk):
    """GET: what the export holds, with the two downloads; ?format=json|pdf downloads."""
    client = _managed_client(request, pk)
    fmt = request.GET.get("format")
    if fmt in ("json", "pdf"):
        body, content_type, name = lifecycle.export_subject_access(
            actor=request.user, client=client, fmt=fmt, request=request
        )
        response = HttpResponse(body, content_type=content_type)
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response
    record_event(actor=request.user, action="read", target=client, request=request)
    return render(request, "casework/subject_access.html", {"client": client})


@client_data_view
def erase(request, pk):
    """A confirmation page (what goes, what stays), then the erasure."""
    client = _managed_client(request, pk)
    error = ""
    if request.method == "POST":
        try:
            lifecycle.erase_client(
                actor=request.user,
                client=client,
                confirm=request.POST.get("confirm", ""),
                request=request,
            )
        except ValidationError as exc:
            error = " ".join(exc.messages)
        else:
            messages.success(
                request,
                _("The client's record is erased. The audit trail keeps only that it existed."),
            )
            return redirect("casework:home")
    else:
        record_event(actor=request.user, action="read", target=client, request=request)
    return render(
        request,
        "casework/erase.html",
        {"client": client, "counts": lifecycle.erasure_counts(client), "error": error},
        status=400 if error else 200,
    )
