from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from claims.events import verify_chain
from claims.models import Claim


class Command(BaseCommand):
    help = "Verify the hash-chained event history of claims (all, or the references given)."

    def add_arguments(self, parser):
        parser.add_argument("references", nargs="*", help="claim references, e.g. CLM-2026-000001")

    def handle(self, *args, references, **options):
        claims = Claim.objects.order_by("pk")
        if references:
            claims = claims.filter(reference__in=references)
            missing = set(references) - set(claims.values_list("reference", flat=True))
            if missing:
                raise CommandError(f"No such claim: {', '.join(sorted(missing))}")
        broken = 0
        checked = 0
        for claim in claims.iterator():
            checked += 1
            problems = verify_chain(claim)
            if problems:
                broken += 1
                for problem in problems:
                    self.stderr.write(f"{claim.reference}: {problem}")
            elif references:
                self.stdout.write(f"{claim.reference}: intact")
        if broken:
            raise CommandError(f"{broken} of {checked} claims have a broken chain of custody.")
        self.stdout.write(self.style.SUCCESS(f"{checked} claims checked; every chain is intact."))
