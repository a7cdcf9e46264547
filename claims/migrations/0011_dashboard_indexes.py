# The partner dashboard at 1,000,000 claims (issue 7): covering indexes for its list, counts
# and pages; trigram indexes on the customers its search looks in. Built CONCURRENTLY on
# PostgreSQL (claims_portal.migration_ops), so the migration takes no write lock on the
# claims table; hence atomic = False. The new indexes come before the old one goes.

from django.conf import settings
from django.db import migrations, models

from claims_portal.migration_ops import (
    AddIndexConcurrentlyWherePossible,
    RemoveIndexConcurrentlyWherePossible,
    trigram_index,
)


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ('claims', '0010_partner_prepared_claims'),
        ('customers', '0003_invitation'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        AddIndexConcurrentlyWherePossible(
            model_name='claim',
            index=models.Index(fields=['partner', '-created_at', '-id'], include=('status', 'partner_prepared', 'program', 'customer', 'submitted_at', 'due_at', 'reference'), name='claim_partner_list'),
        ),
        AddIndexConcurrentlyWherePossible(
            model_name='claim',
            index=models.Index(fields=['partner', 'status', '-created_at', '-id'], include=('partner_prepared', 'program'), name='claim_partner_status_list'),
        ),
        AddIndexConcurrentlyWherePossible(
            model_name='claim',
            index=models.Index(fields=['partner', 'due_at', '-id'], include=('status', 'partner_prepared'), name='claim_partner_due'),
        ),
        RemoveIndexConcurrentlyWherePossible(
            model_name='claim',
            name='claim_partner_status',
        ),
        AddIndexConcurrentlyWherePossible(
            model_name='notification',
            index=models.Index(fields=['user', '-created_at', '-id'], include=('read_at',), name='notification_inbox'),
        ),
        AddIndexConcurrentlyWherePossible(
            model_name='notification',
            index=models.Index(condition=models.Q(('read_at__isnull', True)), fields=['user'], name='notification_unread'),
        ),
        # PartnerClaimFilterSet.search: `icontains` on the customer's name and tenant id.
        trigram_index('customers_customer', 'name', 'customer_name_trgm'),
        trigram_index('customers_customer', 'tenant_id', 'customer_tenant_trgm'),
    ]
