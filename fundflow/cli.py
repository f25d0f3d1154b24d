"""``flask --app wsgi fundflow …``: the commands a council's staff run from a shell."""

from __future__ import annotations

import os
import sys

import click
from flask import current_app
from flask.cli import AppGroup

from .extensions import db
from .services import admin, audit, auth, bid_figures, gias, organisations, school_identifiers, school_imports
from .services.errors import DomainError, ValidationFailed

fundflow_cli = AppGroup("fundflow", help="fundflow administration commands.")


def _fail(exc: DomainError) -> None:
    click.echo(f"Error: {exc.message}", err=True)
    if isinstance(exc, ValidationFailed):
        for field, messages in exc.fields.items():
            for message in messages:
                click.echo(f"  {field}: {message}", err=True)
    sys.exit(1)


@fundflow_cli.command("create-user")
@click.argument("email")
@click.option("--name", required=True, help="The person's full name.")
@click.option(
    "--role",
    "roles",
    multiple=True,
    required=True,
    type=click.Choice(list(admin.ROLES)),
    help="A role; repeat for more than one.",
)
@click.option(
    "--school",
    default=None,
    help="The person's school: its URN, school number, SEED code or DE reference number, or its name.",
)
@click.option(
    "--school-nation",
    default=None,
    help="england, wales, scotland or northern-ireland: when schools in two nations share the number.",
)
@click.option(
    "--organisation",
    "organisation_slug",
    default=None,
    help="Slug of the organisation council staff work for (default: the first).",
)
@click.option("--password", required=True, help="At least 12 characters.")
def create_user(
    email: str,
    name: str,
    roles: tuple[str, ...],
    school: str | None,
    school_nation: str | None,
    organisation_slug: str | None,
    password: str,
) -> None:
    """Create a user (schools and organisations must exist first)."""
    try:
        user = admin.create_user(
            None,
            admin.UserInput(
                email=email,
                name=name,
                roles=list(roles),
                password=password,
                school=school,
                school_nation=school_nation,
                organisation_slug=organisation_slug,
            ),
        )
    except DomainError as exc:
        _fail(exc)
    click.echo(f"Created {user.email} ({', '.join(user.roles)})")


@fundflow_cli.command("create-organisation")
@click.argument("slug")
@click.option("--name", required=True, help="The council's or partnership's name.")
@click.option("--funder-id", required=True, help="Its 360Giving identifier, e.g. GB-LAS-GLG.")
@click.option("--reference-prefix", required=True, help="Starts its bid references, e.g. WPSIF.")
@click.option(
    "--local-authority",
    "local_authorities",
    multiple=True,
    required=True,
    help="A member council's GSS code (CODE=Name for one not known yet); repeat for more.",
)
@click.option(
    "--term-calendar",
    type=click.Choice(["three_terms", "four_terms"]),
    default=None,
    help="Default: four terms if every member council is Scottish, else three.",
)
def create_organisation(
    slug: str,
    name: str,
    funder_id: str,
    reference_prefix: str,
    local_authorities: tuple[str, ...],
    term_calendar: str | None,
) -> None:
    """Create an organisation: a council, or a partnership of councils."""
    try:
        organisation = organisations.create_organisation(
            None,
            slug=slug,
            name=name,
            funder_id=funder_id,
            reference_prefix=reference_prefix,
            local_authorities=list(local_authorities),
            term_calendar=term_calendar,
        )
    except DomainError as exc:
        _fail(exc)
    councils = ", ".join(a.name for a in organisation.local_authorities)
    click.echo(f"Created organisation {organisation.slug} ({organisation.name}; {councils})")


@fundflow_cli.command("issue-token")
@click.argument("email")
@click.option("--name", default="cli", help="A label to recognise the token by.")
def issue_token(email: str, name: str) -> None:
    """Issue an API bearer token; it is printed once, as the last line."""
    try:
        user = auth.user_by_email(email)
    except DomainError as exc:
        _fail(exc)
    if not user.active:
        click.echo(f"Error: {email} is deactivated", err=True)
        sys.exit(1)
    token = auth.issue_token(user, name)
    click.echo(f"Token for {user.email} (store it now; it is not shown again):")
    click.echo(token)


@fundflow_cli.command("revoke-tokens")
@click.argument("email")
def revoke_tokens(email: str) -> None:
    """Revoke every API token of a user."""
    try:
        user = auth.user_by_email(email)
    except DomainError as exc:
        _fail(exc)
    count = auth.revoke_all_tokens(None, user)
    click.echo(f"Revoked {count} token(s) for {user.email}")


#: Who a check run from the command line is recorded as having been made by.
CLI_CHECKER = "the verify-audit command"


@fundflow_cli.command("verify-audit")
@click.option(
    "--organisation", "organisation_slug", default=None, help="Check only this organisation's chain."
)
def verify_audit(organisation_slug: str | None) -> None:
    """Check every organisation's audit hash chain (or one's), and record a full check (shown
    in every dossier)."""
    if organisation_slug is not None:
        try:
            organisation = organisations.by_slug(organisation_slug)
        except DomainError as exc:
            _fail(exc)
        report = audit.verify_and_record(CLI_CHECKER, organisation.id)
    else:
        report = audit.verify_and_record(CLI_CHECKER)
    if report.ok:
        click.echo(f"OK: {report.events_checked} events, hash chain intact")
    else:
        click.echo(
            f"FAILED: event {report.first_bad_event_id} {report.problem} "
            f"(checked {report.events_checked} events)",
            err=True,
        )
    figures_ok = _check_bid_figures()
    if not (report.ok and figures_ok):
        sys.exit(1)


def _check_bid_figures() -> bool:
    """Say whether every bid's kept running figures equal a fresh working-out from its records."""
    count, references = bid_figures.drifted()
    if not count:
        click.echo("OK: every bid's running figures match its claims, payments, reviews and reports")
        return True
    more = f" and {count - len(references)} more" if count > len(references) else ""
    click.echo(
        f"FAILED: the running figures of {count} bid(s) differ from their records: "
        f"{', '.join(references)}{more}. Run rebuild-figures to work them out afresh.",
        err=True,
    )
    return False


@fundflow_cli.command("rebuild-figures")
def rebuild_figures() -> None:
    """Work out every bid's running figures afresh from its records (they are kept with each
    change; verify-audit says when any differ)."""
    count = bid_figures.refresh_all()
    db.session.commit()
    click.echo(f"Worked out the running figures of {count} bid(s)")


@fundflow_cli.command("purge-idempotency-keys")
def purge_idempotency_keys() -> None:
    """Delete idempotency keys older than 24 hours (guarded writes also purge a few each)."""
    from .services import idempotency

    deleted = idempotency.purge_expired()
    click.echo(f"Deleted {deleted} expired idempotency key(s)")


@fundflow_cli.command("import-schools")
@click.argument("file", type=click.File("rb"))
@click.option(
    "--nation",
    type=click.Choice(["england", "wales", "scotland", "northern-ireland"]),
    default=None,
    help="Whose published list FILE is; found from the file when not given.",
)
def import_schools(file, nation: str | None) -> None:
    """Import or update schools from a nation's published list: the GIAS establishments CSV
    (England), the Welsh address list of schools (ODS), the Scottish school contact details
    (xlsx) or the Department of Education's institutions CSV (Northern Ireland)."""
    try:
        size = os.fstat(file.fileno()).st_size
    except (OSError, AttributeError, ValueError):
        size = 0
    raw = school_imports.as_seekable(file)
    try:
        chosen = school_identifiers.nation_of(nation) if nation else school_imports.detect_nation(raw)
        if size and chosen == "england":
            with click.progressbar(length=size, label="Importing schools", file=sys.stderr) as bar:
                result = gias.import_schools(None, raw, on_read=bar.update)
        else:
            chosen, result = school_imports.import_schools(None, raw, chosen)
    except DomainError as exc:
        _fail(exc)
    for line, message in result.errors:
        click.echo(f"Line {line}: {message}", err=True)
    click.echo(
        f"Imported {result.imported} schools: {result.created} new, {result.updated} updated, "
        f"{result.unchanged} unchanged; {result.closed} closed ({len(result.newly_closed)} newly closed); "
        f"{len(result.errors)} rows with errors"
    )


@fundflow_cli.command("seed-demo")
def seed_demo() -> None:
    """Fill an empty database with a demo fund, schools, accounts and bids (not in production)."""
    from . import demo

    if current_app.config.get("ENV_NAME") == "production":
        click.echo("Error: seed-demo refuses to run in production mode (FUNDFLOW_ENV=production).", err=True)
        sys.exit(1)
    if demo.already_seeded():
        click.echo("Demo data is already there.")
    else:
        counts = demo.seed()
        click.echo(
            f"Seeded {counts['funds']} funds, {counts['schools']} schools, {counts['users']} accounts "
            f"and {counts['applications']} applications."
        )
    click.echo(f"Demo accounts (password for all: {demo.DEMO_PASSWORD}):")
    width = max(map(len, demo.ROLE_OF_ACCOUNT))
    for email, role in demo.ROLE_OF_ACCOUNT.items():
        click.echo(f"  {email:<{width}} {role}")
    db.session.remove()


@fundflow_cli.command("seed-bench")
@click.option("--applications", "count", type=click.IntRange(min=1), default=1000, show_default=True)
def seed_bench(count: int) -> None:
    """Add COUNT bids in every state, bulk loaded, for benchmarks (loads the demo first if
    it is not there; not in production)."""
    from . import bench_seed

    if current_app.config.get("ENV_NAME") == "production":
        click.echo("Error: seed-bench refuses to run in production mode (FUNDFLOW_ENV=production).", err=True)
        sys.exit(1)
    result = bench_seed.seed_bench(count)
    click.echo(f"Seeded {result.applications} bids, {result.events} events in {result.seconds:.1f} s")
    db.session.remove()


@fundflow_cli.command("draw-lifecycle")
def draw_lifecycle() -> None:
    """Redraw the lifecycle diagrams from fundflow/workflow.py (needs Graphviz's `dot`)."""
    from .main import diagram

    for path in diagram.write_all():
        click.echo(f"Wrote {path.relative_to(diagram.STATIC.parents[1])}")


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


@fundflow_cli.command("send-notifications")
def send_notifications() -> None:
    """Send the emails waiting in the outbox (and, from 07:00 UK time, the daily digests).
    Run it every minute; several at once, on several machines, are safe."""
    from .services import outbox

    result = outbox.send_due()
    click.echo(
        f"Sent {_plural(result.sent, 'email')}, {result.failed} failed, {result.retrying} waiting to retry."
    )


@fundflow_cli.command("run-schedule")
def run_schedule() -> None:
    """Mark overdue reports and claim deadlines late, and queue the reminders due today.
    Run it every 15 minutes or so; running it again the same day sends nothing twice."""
    from .services import schedule

    result = schedule.run_schedule()
    click.echo(
        f"Marked {result.marked_late} late; sent {_plural(result.reminders, 'reminder')} "
        f"and {_plural(result.escalations, 'escalation')}."
    )
