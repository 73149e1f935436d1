"""API writes submitted through the admin's own forms, so the API saves exactly what the admin
would: the same fields, cleaning, cross-field and inline rules, permissions and history.

A JSON body becomes the POST the admin's change form would send: every field starts from the
object's current value (so PATCH changes only what it names), and each inline list given
replaces that inline's rows (items with an `id` keep their row; rows left out are deleted).
The form and every inline formset are validated together and saved in one transaction, as the
admin does: nothing is saved unless everything is valid.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.contrib import admin
from django.db import IntegrityError, models, transaction
from django.http import HttpRequest, QueryDict
from django.utils.datastructures import MultiValueDict
from rest_framework import exceptions
from rest_framework.request import Request

from api.errors import Conflict

NON_FIELD = "non_field_errors"


class Invalid(exceptions.ValidationError):
    """A 400 whose body maps each field (and each inline item) to its errors."""


@dataclass
class _Inline:
    prefix: str
    fields: list[str]
    rows: list[models.Model]
    # The JSON index of each form of the formset (None: a row left out, so deleted).
    positions: list[int | None] = field(default_factory=list)


def _scalar(name: str, value: Any, errors: dict) -> Any:
    """A JSON value as a form field reads a posted one; lists and objects are refused."""
    if value is None:
        return ""
    if isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return repr(value)
    errors[name] = ["Expected a single value, not a list or an object."]
    return ""


def _current(form: forms.BaseForm, name: str) -> Any:
    value = form[name].value()
    return "" if value is None else value


def _post_request(request: Request, data: QueryDict) -> HttpRequest:
    # The admin reads the data, the method and the user from the request it is given.
    posted = copy.copy(request._request)
    posted.method = "POST"
    posted._post = data
    posted._files = MultiValueDict()
    return posted


def submit(
    request: Request,
    model: type[models.Model],
    body: Any,
    *,
    instance: models.Model | None = None,
    inlines: set[str] = frozenset(),
    read_only: set[str] = frozenset(),
) -> models.Model:
    """Create (`instance` None) or change an object of `model` from a JSON `body`, through the
    registered ModelAdmin's form and the inline formsets named in `inlines`. Raises Invalid
    (400) for bad input, Conflict (409) when a concurrent write took a unique value first."""
    if not isinstance(body, Mapping):
        raise Invalid({NON_FIELD: ["Send a JSON object."]})
    model_admin = admin.site.get_model_admin(model)
    change = instance is not None
    obj = instance if change else model()
    data = QueryDict(mutable=True)
    errors: dict[str, Any] = {}

    # 1. The object's own fields: current values, then the body's.
    form_class = model_admin.get_form(request._request, instance, change=change)
    current = form_class(instance=obj)
    for name in current.fields:
        data[name] = _current(current, name)
    known = set(current.fields) | read_only
    for name, value in body.items():
        if name in current.fields:
            data[name] = _scalar(name, value, errors)
        elif name not in known and name not in inlines:
            errors[name] = ["Unknown field."]

    # 2. Each inline: its rows as they are, or as the body's list makes them.
    formset_args = [request._request, instance] if change else [request._request]
    parts = []
    for formset_class, _inline in model_admin.get_formsets_with_inlines(*formset_args):
        prefix = formset_class.get_default_prefix()
        part = _Inline(
            prefix,
            list(formset_class.form.base_fields),
            list(formset_class(instance=obj, prefix=prefix).get_queryset()) if change else [],
        )
        _inline_data(
            part, formset_class, body.get(prefix) if prefix in inlines else None, data, errors
        )
        parts.append(part)
    if errors:
        raise Invalid(errors)

    # 3. Validate everything, as the admin's change form does, then save it all or nothing.
    posted = _post_request(request, data)
    form = model_admin.get_form(posted, instance, change=change)(data, instance=obj)
    form_valid = form.is_valid()
    new_object = model_admin.save_form(posted, form, change=change) if form_valid else obj
    formsets = []
    for formset_class, inline in model_admin.get_formsets_with_inlines(*formset_args):
        prefix = formset_class.get_default_prefix()
        kwargs = model_admin.get_formset_kwargs(posted, new_object, inline, prefix)
        formsets.append(formset_class(**kwargs))
    formsets_valid = all([formset.is_valid() for formset in formsets])
    if not (form_valid and formsets_valid):
        raise Invalid(_errors(form, formsets, parts))
    try:
        with transaction.atomic():
            model_admin.save_model(posted, new_object, form, change)
            model_admin.save_related(posted, form, formsets, change)
            message = model_admin.construct_change_message(posted, form, formsets, not change)
            if change:
                model_admin.log_change(posted, new_object, message)
            else:
                model_admin.log_addition(posted, new_object, message)
    except IntegrityError:
        # Another request saved the same number (say) between this one's checks and its save.
        raise Conflict("Another change got there first; read the object again and retry.") from None
    return new_object


def _inline_data(part: _Inline, formset_class, items: Any, data: QueryDict, errors: dict) -> None:
    prefix, rows = part.prefix, part.rows
    by_id = {row.pk: row for row in rows}
    kept: dict[int, tuple[int, Mapping]] = {}
    new: list[tuple[int, Mapping]] = []
    if items is None:
        # Not in the body: every row stays as it is.
        kept = {row.pk: (None, None) for row in rows}
    elif not isinstance(items, list):
        errors[prefix] = ["Expected a list."]
        return
    else:
        for index, item in enumerate(items):
            if not isinstance(item, Mapping):
                errors.setdefault(prefix, {})[str(index)] = {NON_FIELD: ["Expected an object."]}
                continue
            pk = item.get("id")
            if pk is None:
                new.append((index, item))
            elif not isinstance(pk, int) or isinstance(pk, bool) or pk not in by_id:
                errors.setdefault(prefix, {})[str(index)] = {"id": [f"No such row in {prefix}."]}
            elif pk in kept:
                errors.setdefault(prefix, {})[str(index)] = {"id": ["Listed twice."]}
            else:
                kept[pk] = (index, item)
    if isinstance(errors.get(prefix), dict | list):
        return

    def put(form_index: int, values: Mapping[str, Any], position: int | None) -> None:
        for name, value in values.items():
            data[f"{prefix}-{form_index}-{name}"] = value
        part.positions.append(position)

    item_errors: dict[str, Any] = {}
    for form_index, row in enumerate(rows):
        current = formset_class.form(instance=row)
        values = {name: _current(current, name) for name in part.fields}
        values["id"] = row.pk
        if row.pk not in kept:
            values["DELETE"] = "on"
        index, item = kept.get(row.pk, (None, None))
        if item is not None:
            _overlay(values, item, part, index, item_errors)
        put(form_index, values, index)
    for form_index, (index, item) in enumerate(new, start=len(rows)):
        values = {name: "" for name in part.fields}
        _overlay(values, item, part, index, item_errors)
        put(form_index, values, index)
    if item_errors:
        errors[prefix] = item_errors
    data[f"{prefix}-TOTAL_FORMS"] = len(rows) + len(new)
    data[f"{prefix}-INITIAL_FORMS"] = len(rows)
    data[f"{prefix}-MIN_NUM_FORMS"] = 0
    data[f"{prefix}-MAX_NUM_FORMS"] = 1000


def _overlay(values: dict, item: Mapping, part: _Inline, index: int, errors: dict) -> None:
    problems: dict[str, list[str]] = {}
    for name, value in item.items():
        if name == "id":
            continue
        if name in part.fields:
            values[name] = _scalar(name, value, problems)
        else:
            problems[name] = ["Unknown field."]
    if "order" in part.fields and "order" not in item:
        # A list's order is the ringing order.
        values["order"] = index + 1
    if problems:
        errors[str(index)] = problems


def _errors(form: forms.BaseForm, formsets: list, parts: list[_Inline]) -> dict[str, Any]:
    errors: dict[str, Any] = {
        (NON_FIELD if name == "__all__" else name): list(messages)
        for name, messages in form.errors.items()
    }
    for formset, part in zip(formsets, parts, strict=True):
        if formset.non_form_errors():
            errors[part.prefix] = list(formset.non_form_errors())
            continue
        items: dict[str, Any] = {}
        for form_index, form_errors in enumerate(formset.errors):
            if not form_errors:
                continue
            index = part.positions[form_index] if form_index < len(part.positions) else None
            key = str(index) if index is not None else NON_FIELD
            items[key] = {
                (NON_FIELD if name == "__all__" else name): list(messages)
                for name, messages in form_errors.items()
            }
        if items:
            errors[part.prefix] = items
    return errors
