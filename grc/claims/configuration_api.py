"""Configuration endpoints: treatment units, routing rules and catalogue changes.

Every staff role reads them (agents need units to reroute); only administrators change them.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask.views import MethodView
from sqlalchemy.orm import joinedload

from grc.arguments import Blueprint
from grc.auth import Permission, require
from grc.claims import operations
from grc.claims.models import Category, RoutingRule, TreatmentUnit
from grc.claims.schemas import (
    CategoryChangeSchema,
    CategorySchema,
    RoutingRuleCreateSchema,
    RoutingRuleSchema,
    UnitSchema,
)
from grc.errors import NotFound
from grc.extensions import db

blp = Blueprint(
    "configuration",
    __name__,
    url_prefix="/api/v1",
    description="Treatment units, routing rules and catalogue administration",
)


@blp.route("/units")
class UnitList(MethodView):
    @require(Permission.CATALOGUE_READ)
    @blp.response(200, UnitSchema(many=True))
    def get(self) -> list[TreatmentUnit]:
        """Treatment units: each agency's, then the company-wide ones."""
        return list(
            db.session.execute(
                sa.select(TreatmentUnit).order_by(
                    TreatmentUnit.agency_id.is_(None), TreatmentUnit.agency_id, TreatmentUnit.code
                )
            ).scalars()
        )


@blp.route("/routing-rules")
class RoutingRuleCollection(MethodView):
    @require(Permission.CATALOGUE_READ)
    @blp.response(200, RoutingRuleSchema(many=True))
    def get(self) -> list[RoutingRule]:
        """Routing rules, applied when no contract covers a claim (most specific first)."""
        return list(
            db.session.execute(
                sa.select(RoutingRule)
                .options(joinedload(RoutingRule.category), joinedload(RoutingRule.unit))
                .order_by(RoutingRule.id)
            ).scalars()
        )

    @require(Permission.CATALOGUE_WRITE)
    @blp.arguments(RoutingRuleCreateSchema())
    @blp.response(201, RoutingRuleSchema)
    def post(self, payload: dict[str, Any]) -> RoutingRule:
        """Add a routing rule for a category (or a whole domain) within a scope."""
        rule = operations.create_routing_rule(db.session, operations.NewRoutingRule(**payload))
        db.session.commit()
        return rule


@blp.route("/routing-rules/<int(max=2147483647):rule_id>")
class RoutingRuleItem(MethodView):
    @require(Permission.CATALOGUE_WRITE)
    @blp.response(204)
    def delete(self, rule_id: int) -> None:
        """Remove a routing rule; claims already routed keep their route."""
        rule = db.session.get(RoutingRule, rule_id)
        if rule is None:
            raise NotFound(f"No routing rule with id {rule_id}.")
        operations.delete_routing_rule(db.session, rule)
        db.session.commit()


@blp.route("/categories/<string:code>")
class CategoryItem(MethodView):
    @require(Permission.CATALOGUE_WRITE)
    @blp.arguments(CategoryChangeSchema())
    @blp.response(200, CategorySchema)
    def patch(self, payload: dict[str, Any], code: str) -> Category:
        """Change a category's labels, default priority, SLA policy or whether it is offered."""
        category = db.session.execute(
            sa.select(Category).where(Category.code == code.upper())
        ).scalar_one_or_none()
        if category is None:
            raise NotFound(f"No category '{code}'.")
        operations.update_category(db.session, category, operations.CategoryChange(**payload))
        db.session.commit()
        return category
