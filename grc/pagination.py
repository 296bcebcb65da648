"""One page of a listing, with the total flask-smorest puts in the X-Pagination header."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask_smorest.pagination import PaginationParameters
from sqlalchemy.orm import Session


def page_of(
    session: Session, stmt: sa.Select[Any], pagination: PaginationParameters, *order_by: Any
) -> list[Any]:
    pagination.item_count = session.execute(
        sa.select(sa.func.count()).select_from(stmt.order_by(None).subquery())
    ).scalar_one()
    return list(
        session.execute(
            stmt.order_by(*order_by).limit(pagination.page_size).offset(pagination.first_item)
        ).scalars()
    )
