from django.db import migrations

# The outcome invariant, held by PostgreSQL whatever the code path (the life cycle, the admin,
# a shell, a later feature): every association a claim granted points to an approved line of
# that claim (same customer, partner and workload), and no claim that ends withdrawn or
# rejected leaves an active association it granted. `manage.py check_claim_outcomes` checks
# the same over existing data.
FORWARD = """
CREATE OR REPLACE FUNCTION claims_association_outcome() RETURNS trigger AS $$
BEGIN
    IF NEW.source_claim_id IS NULL THEN
        RETURN NEW;
    END IF;
    IF NOT EXISTS (
        SELECT 1 FROM claims_claimline l JOIN claims_claim c ON c.id = l.claim_id
        WHERE l.claim_id = NEW.source_claim_id AND l.workload_id = NEW.workload_id
          AND l.status = 'approved'
          AND c.customer_id = NEW.customer_id AND c.partner_id = NEW.partner_id
    ) THEN
        RAISE EXCEPTION 'association % (customer %, workload %) points to no approved line of claim %',
            NEW.id, NEW.customer_id, NEW.workload_id, NEW.source_claim_id
            USING ERRCODE = 'check_violation';
    END IF;
    IF NEW.ended_on IS NULL AND EXISTS (
        SELECT 1 FROM claims_claim c
        WHERE c.id = NEW.source_claim_id AND c.status IN ('withdrawn', 'rejected')
    ) THEN
        RAISE EXCEPTION 'claim % is withdrawn or rejected: it cannot hold an active association',
            NEW.source_claim_id USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER claims_association_outcome
    BEFORE INSERT OR UPDATE OF source_claim_id, customer_id, partner_id, workload_id, ended_on
    ON customers_association
    FOR EACH ROW EXECUTE FUNCTION claims_association_outcome();

CREATE OR REPLACE FUNCTION claims_claim_outcome() RETURNS trigger AS $$
BEGIN
    IF EXISTS (
        SELECT 1 FROM customers_association a
        WHERE a.source_claim_id = NEW.id AND a.ended_on IS NULL
    ) THEN
        RAISE EXCEPTION 'claim % cannot end %: it granted an active association',
            NEW.reference, NEW.status USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER claims_claim_outcome
    BEFORE UPDATE OF status ON claims_claim
    FOR EACH ROW WHEN (NEW.status IN ('withdrawn', 'rejected'))
    EXECUTE FUNCTION claims_claim_outcome();

CREATE OR REPLACE FUNCTION claims_approved_line_kept() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.status = 'approved' AND NEW.claim_id = OLD.claim_id
       AND NEW.workload_id = OLD.workload_id THEN
        RETURN NEW;
    END IF;
    IF EXISTS (
        SELECT 1 FROM customers_association a
        WHERE a.source_claim_id = OLD.claim_id AND a.workload_id = OLD.workload_id
    ) THEN
        RAISE EXCEPTION 'line % of claim % is approved and granted an association: it stays approved',
            OLD.id, OLD.claim_id USING ERRCODE = 'check_violation';
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER claims_approved_line_kept
    BEFORE UPDATE OF status, claim_id, workload_id OR DELETE ON claims_claimline
    FOR EACH ROW WHEN (OLD.status = 'approved')
    EXECUTE FUNCTION claims_approved_line_kept();
"""
BACKWARD = """
DROP TRIGGER IF EXISTS claims_association_outcome ON customers_association;
DROP FUNCTION IF EXISTS claims_association_outcome();
DROP TRIGGER IF EXISTS claims_claim_outcome ON claims_claim;
DROP FUNCTION IF EXISTS claims_claim_outcome();
DROP TRIGGER IF EXISTS claims_approved_line_kept ON claims_claimline;
DROP FUNCTION IF EXISTS claims_approved_line_kept();
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        # params=None: the % of RAISE are the function's, not placeholders.
        schema_editor.execute(FORWARD, params=None)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD)


class Migration(migrations.Migration):
    dependencies = [
        ("claims", "0007_line_withdrawn"),
        ("customers", "0002_changerequest"),
    ]

    operations = [migrations.RunPython(forward, backward)]
