# A meeting under any client's plan or journey is PROTECTed, demo service included:
# `mutualaid demo --replace` now removes the demo service before the demo meetings.

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("casework", "0004_client_anonymised_at"),
    ]

    operations = [
        migrations.AlterField(
            model_name="attendance",
            name="meeting",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=models.PROTECT,
                related_name="+",
                to="directory.meeting",
            ),
        ),
        migrations.AlterField(
            model_name="goal",
            name="meeting",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=models.PROTECT,
                related_name="+",
                to="directory.meeting",
            ),
        ),
        migrations.AlterField(
            model_name="introduction",
            name="meeting",
            field=models.ForeignKey(
                on_delete=models.PROTECT, related_name="+", to="directory.meeting"
            ),
        ),
        migrations.AlterField(
            model_name="meetingchoice",
            name="meeting",
            field=models.ForeignKey(
                on_delete=models.PROTECT, related_name="+", to="directory.meeting"
            ),
        ),
    ]
