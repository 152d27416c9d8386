"""Reads of one row by its key, for the hottest path there is (every request of an app,
every vote): the ORM builds the query once per process, and each read runs its SQL.

Building a query with joins and annotations costs Django about a millisecond of CPU, ten
times what PostgreSQL spends running it (bench/vote_profile.py). The query is still the
ORM's, from the same querysets the rest of the code uses, so it cannot come to mean
something else; instances come out as ``select_related`` would leave them.
"""

from collections.abc import Callable, Iterator
from functools import cached_property

from django.db import connection
from django.db.models import Model, QuerySet

ANY_KEY = -(2**62)  # stands for the key while the query is built


def _attnames(model: type[Model]) -> list[str]:
    return [field.attname for field in model._meta.concrete_fields]


class RowByKey:
    """``get(key)``: the row of ``queryset()`` with that primary key, or None; with the
    forward foreign keys ``related`` (paths as for ``select_related``, each one's parent
    listed before it) loaded and the ``annotations`` of the queryset set as attributes."""

    def __init__(
        self,
        queryset: Callable[[], QuerySet],
        *,
        related: tuple[str, ...] = (),
        annotations: tuple[str, ...] = (),
    ):
        self.queryset, self.related, self.annotations = queryset, related, annotations

    @cached_property
    def _statement(self) -> tuple[str, tuple, int, type[Model], list[type[Model]]]:
        queryset = self.queryset()
        model = queryset.model
        related_models, columns = [], list(_attnames(model))
        for path in self.related:
            parent = model
            for name in path.split("__"):
                parent = parent._meta.get_field(name).related_model
            related_models.append(parent)
            columns += [f"{path}__{name}" for name in _attnames(parent)]
        queryset = queryset.filter(pk=ANY_KEY).values_list(*columns, *self.annotations)
        sql, params = queryset.query.sql_with_params()
        return sql, params, params.index(ANY_KEY), model, related_models

    def get(self, key: int) -> Model | None:
        sql, params, key_at, model, related_models = self._statement
        with connection.cursor() as cursor:
            cursor.execute(sql, (*params[:key_at], key, *params[key_at + 1 :]))
            row = cursor.fetchone()
        if row is None:
            return None
        values = iter(row)
        instance = _instance(model, values)
        loaded = {"": instance}
        for path, related_model in zip(self.related, related_models, strict=True):
            parent_path, _, name = path.rpartition("__")
            related = _instance(related_model, values)  # takes its columns even when absent
            parent = loaded.get(parent_path)
            if parent is not None:
                parent._meta.get_field(name).set_cached_value(parent, related)
            loaded[path] = related
        for name in self.annotations:
            setattr(instance, name, next(values))
        return instance


def _instance(model: type[Model], values: Iterator) -> Model | None:
    """The next ``model`` from a row's values; None for a related row that is absent."""
    names = _attnames(model)
    row = [next(values) for _ in names]
    absent = row[names.index(model._meta.pk.attname)] is None
    return None if absent else model.from_db(connection.alias, names, row)
