# Claims a partner prepares (issue 7): the flag that shows them to the partner before the
# customer signs, the custom SOW in private storage, the PREPARE action.

import claims_portal.uploads
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('claims', '0009_claim_form_drafts_comments'),
    ]

    operations = [
        migrations.AddField(
            model_name='claim',
            name='partner_prepared',
            field=models.BooleanField(default=False, editable=False, verbose_name='prepared by the partner'),
        ),
        migrations.AlterField(
            model_name='claim',
            name='custom_sow',
            field=models.FileField(blank=True, max_length=200, storage=claims_portal.uploads.private_storage, upload_to=claims_portal.uploads.sow_upload_to, verbose_name='custom SOW document'),
        ),
        migrations.AlterField(
            model_name='event',
            name='action',
            field=models.CharField(choices=[('created', 'Created'), ('prepare', 'Prepared by the partner'), ('edit', 'Edited'), ('route', 'Sent to the approver'), ('sign', 'Signed and submitted'), ('resubmit', 'Corrected and resubmitted'), ('confirm', 'Confirmed by the partner'), ('return', 'Returned to the customer'), ('evaluate', 'Checked automatically'), ('decide', 'Decided by the claims team'), ('review_return', 'Returned by the claims team'), ('review_return_partner', 'Returned to the partner by the claims team'), ('withdraw', 'Withdrawn'), ('assign', 'Assigned in the claims team'), ('remind', 'Reminder sent'), ('escalate', 'Escalated'), ('comment', 'Commented')], max_length=40),
        ),
    ]
