"""API errors as JSON: DRF's, plus a model's own validation, which DRF leaves as a 500."""

from __future__ import annotations

from django.core.exceptions import ValidationError as ModelValidationError
from rest_framework import exceptions, status
from rest_framework.views import exception_handler as drf_exception_handler


def exception_handler(error, context):
    if isinstance(error, ModelValidationError):
        detail = error.message_dict if hasattr(error, "error_dict") else error.messages
        error = exceptions.ValidationError(detail)
    return drf_exception_handler(error, context)


class Conflict(exceptions.APIException):
    """The request was valid, but the data it would change has moved on (409)."""

    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"
