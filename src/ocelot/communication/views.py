"""The agent-facing views: the endpoint (see communication.exchange), agent files, the CA."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from ocelot.communication.exchange import Answer, answer_message, refusal
from ocelot.deployment.agent_files import AgentFileUnavailableError, read_agent_file


def _response(answer: Answer) -> HttpResponse:
    response = HttpResponse(answer.body, status=answer.status, content_type=answer.content_type)
    for name, value in answer.headers.items():
        response[name] = value
    return response


def _refuse(status: int, reason: str) -> HttpResponse:
    return _response(refusal(status, reason))


@csrf_exempt
def endpoint(request: HttpRequest) -> HttpResponse:
    """POST /ocsinventory through Django (``ocelot server`` answers it in communication.wsgi)."""
    return _response(
        answer_message(
            request.method or "",
            request.read,
            content_length=request.META.get("CONTENT_LENGTH"),
            user_agent=request.META.get("HTTP_USER_AGENT", ""),
            remote_addr=request.META.get("REMOTE_ADDR", ""),
            forwarded_for=request.META.get("HTTP_X_FORWARDED_FOR"),
        )
    )


def agent_file(request: HttpRequest, name: str) -> HttpResponse:
    """GET /ocsinventory/deploy/<name>: launcher files and the TAG label (option DEPLOY)."""
    try:
        content = read_agent_file(name)
    except AgentFileUnavailableError:
        return _refuse(404, "no such agent file")
    response = HttpResponse(content, content_type="application/octet-stream")
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Disposition"] = "attachment"
    return response


def ca_certificate(request: HttpRequest) -> HttpResponse:
    """GET /cacert.pem: the CA agents use to verify this server (protocol.md §1.6)."""
    path = settings.CONFIG.public_dir / "cacert.pem"  # type: ignore[misc]
    if not path.exists():
        return _refuse(404, "no CA certificate yet")
    return HttpResponse(path.read_bytes(), content_type="application/x-pem-file")
