"""Counted ratings per novelty, stars and shard, kept by a trigger on the ratings (see
``novelties.models.StarCount``), and filled from the ratings already there."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


# A rating counts while it is not excluded. Each write of a rating takes back what its old
# version counted and adds what its new one counts, lower stars first, so two transactions
# changing the same shard always lock its rows in the same order. A write that changes
# nothing counted (a comment, the erasure of its author) costs nothing. Taking back is an
# UPDATE: an upsert's proposed row would break the CHECK even when it conflicts.
TRIGGER = """
CREATE FUNCTION novelties_star_count_change(
    p_novelty bigint, p_stars integer, p_shard bigint, p_change integer
) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF p_change > 0 THEN
        INSERT INTO novelties_starcount AS counted (novelty_id, stars, shard, count)
            VALUES (p_novelty, p_stars, p_shard, p_change)
            ON CONFLICT (novelty_id, stars, shard)
                DO UPDATE SET count = counted.count + EXCLUDED.count;
    ELSE
        UPDATE novelties_starcount SET count = count + p_change
            WHERE novelty_id = p_novelty AND stars = p_stars AND shard = p_shard;
    END IF;
END
$$;
CREATE FUNCTION novelties_star_count() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    old_counted boolean := TG_OP <> 'INSERT' AND OLD.excluded_at IS NULL;
    new_counted boolean := TG_OP <> 'DELETE' AND NEW.excluded_at IS NULL;
BEGIN
    IF TG_OP = 'UPDATE' AND old_counted = new_counted AND OLD.stars = NEW.stars
            AND OLD.novelty_id = NEW.novelty_id THEN
        RETURN NULL;
    END IF;
    IF old_counted AND new_counted AND NEW.stars < OLD.stars THEN
        PERFORM novelties_star_count_change(NEW.novelty_id, NEW.stars, NEW.id % {shards}, 1);
        PERFORM novelties_star_count_change(OLD.novelty_id, OLD.stars, OLD.id % {shards}, -1);
    ELSE
        IF old_counted THEN
            PERFORM novelties_star_count_change(OLD.novelty_id, OLD.stars, OLD.id % {shards}, -1);
        END IF;
        IF new_counted THEN
            PERFORM novelties_star_count_change(NEW.novelty_id, NEW.stars, NEW.id % {shards}, 1);
        END IF;
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER novelties_rating_star_count
    AFTER INSERT OR UPDATE OR DELETE ON novelties_rating
    FOR EACH ROW EXECUTE FUNCTION novelties_star_count();
INSERT INTO novelties_starcount (novelty_id, stars, shard, count)
    SELECT novelty_id, stars, id % {shards}, count(*)
    FROM novelties_rating WHERE excluded_at IS NULL
    GROUP BY 1, 2, 3;
""".format(shards=16)  # models.STAR_COUNT_SHARDS when this was written; fixed from now on
DROP_TRIGGER = """
DROP TRIGGER novelties_rating_star_count ON novelties_rating;
DROP FUNCTION novelties_star_count();
DROP FUNCTION novelties_star_count_change(bigint, integer, bigint, integer);
"""


class Migration(migrations.Migration):
    dependencies = [
        ("novelties", "0002_group_permissions"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="StarCount",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("stars", models.PositiveSmallIntegerField()),
                ("shard", models.PositiveSmallIntegerField()),
                ("count", models.IntegerField()),
            ],
        ),
        migrations.RemoveIndex(
            model_name="rating",
            name="rating_counted",
        ),
        migrations.AddIndex(
            model_name="rating",
            index=models.Index(
                condition=models.Q(
                    ("excluded_at__isnull", True), models.Q(("comment", ""), _negated=True)
                ),
                fields=["novelty", "-updated_at"],
                name="rating_latest_comments",
            ),
        ),
        migrations.AddField(
            model_name="starcount",
            name="novelty",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="novelties.novelty",
            ),
        ),
        migrations.AddConstraint(
            model_name="starcount",
            constraint=models.UniqueConstraint(
                fields=("novelty", "stars", "shard"), name="star_count_one_per_shard"
            ),
        ),
        migrations.AddConstraint(
            model_name="starcount",
            constraint=models.CheckConstraint(
                condition=models.Q(("count__gte", 0)), name="star_count_not_negative"
            ),
        ),
        migrations.RunSQL(TRIGGER, DROP_TRIGGER),
    ]
