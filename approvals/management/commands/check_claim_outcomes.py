from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from approvals.outcomes import count_checked, find_problems


class Command(BaseCommand):
    help = (
        "Check the claims' outcome invariant over the whole database: every association a "
        "claim granted points to an approved line of it, no withdrawn or rejected claim holds "
        "an active association, and each claim's status agrees with its lines and the queue."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--limit", type=int, default=200, help="problems to print at most (default 200)"
        )

    def handle(self, *args, limit, **options):
        found = 0
        for problem in find_problems():
            found += 1
            if found <= limit:
                self.stderr.write(str(problem))
        counts = count_checked()
        if found:
            raise CommandError(
                f"{found} problems in {counts['claims']} claims and "
                f"{counts['associations']} granted associations."
            )
        self.stdout.write(
            self.style.SUCCESS(
                f"{counts['claims']} claims and {counts['associations']} granted associations "
                "checked; every outcome holds."
            )
        )
