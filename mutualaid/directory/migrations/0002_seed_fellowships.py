from django.db import migrations

# A frozen copy of the list at the time of this migration: later edits to
# mutualaid/directory/fellowships.py need their own migration.
FELLOWSHIPS = [
    ("AA", "Alcoholics Anonymous", "twelve_step", "Anyone who wants to stop drinking", "alcohol", "https://www.alcoholics-anonymous.org.uk"),
    ("NA", "Narcotics Anonymous", "twelve_step", "Anyone who wants to stop using drugs, including alcohol", "drugs,alcohol", "https://ukna.org"),
    ("CA", "Cocaine Anonymous", "twelve_step", "Anyone who wants to stop using cocaine and all other mind-altering substances", "cocaine,drugs,alcohol", "https://cocaineanonymous.org.uk"),
    ("CMA", "Crystal Meth Anonymous", "twelve_step", "Anyone who wants to stop using crystal meth", "crystal_meth,drugs", "https://www.crystalmeth.org"),
    ("MA", "Marijuana Anonymous", "twelve_step", "Anyone who wants to stop using cannabis", "cannabis", "https://marijuana-anonymous.org"),
    ("DAA", "Drug Addicts Anonymous", "twelve_step", "Anyone who wants to stop using drugs", "drugs", "https://www.drugaddictsanonymous.org.uk"),
    ("HA", "Heroin Anonymous", "twelve_step", "Anyone who wants to stop using heroin and other opioids", "drugs", "https://heroinanonymous.org"),
    ("GA", "Gamblers Anonymous", "twelve_step", "Anyone who wants to stop gambling", "gambling", "https://www.gamblersanonymous.org.uk"),
    ("OA", "Overeaters Anonymous", "twelve_step", "Anyone who wants to stop eating compulsively", "eating", "https://www.oagb.org.uk"),
    ("EDA", "Eating Disorders Anonymous", "twelve_step", "Anyone who wants to recover from an eating disorder", "eating", "https://eatingdisordersanonymous.org"),
    ("SLAA", "Sex and Love Addicts Anonymous", "twelve_step", "Anyone who wants to stop compulsive sexual or romantic behaviour", "sex_love", "https://slaauk.org"),
    ("SMART", "SMART Recovery", "secular", "Anyone who wants to change an addictive behaviour, with or without medication", "alcohol,drugs,gambling,other_behaviours", "https://smartrecovery.org.uk"),
    ("SMART-FF", "SMART Recovery Family & Friends", "family", "People affected by someone else's addictive behaviour", "affected_others", "https://smartrecovery.org.uk"),
    ("LIFERING", "LifeRing Secular Recovery", "secular", "Anyone who wants to stop drinking and using, without a higher power", "alcohol,drugs", "https://lifering.org"),
    ("RD", "Recovery Dharma", "secular", "Anyone recovering from any addiction, through Buddhist practice", "alcohol,drugs,gambling,other_behaviours", "https://recoverydharma.org"),
    ("WFS", "Women for Sobriety", "secular", "Women who want to stop drinking and using", "alcohol,drugs", "https://womenforsobriety.org"),
    ("ALANON", "Al-Anon", "family", "Families and friends of people who drink", "affected_others", "https://www.al-anonuk.org.uk"),
    ("ALATEEN", "Alateen", "family", "Young people (12-17) affected by someone else's drinking", "affected_others", "https://www.al-anonuk.org.uk/alateen"),
    ("FA", "Families Anonymous", "family", "Families and friends of people who use drugs", "affected_others", "https://famanon.org.uk"),
    ("NARANON", "Nar-Anon", "family", "Families and friends of people who use drugs", "affected_others", "https://www.nar-anon.org"),
    ("GAMANON", "Gam-Anon", "family", "Families and friends of people who gamble", "affected_others", "https://www.gamanon.org.uk"),
    ("ACA", "Adult Children of Alcoholics", "family", "Adults who grew up with alcoholism or dysfunction at home", "affected_others", "https://adultchildren.org"),
    ("OTHER", "Other mutual aid", "twelve_step", "Groups not yet listed under their own fellowship", "other_behaviours", ""),
]


def seed(apps, schema_editor):
    Fellowship = apps.get_model("directory", "Fellowship")
    for code, name, approach, audience, covers, website in FELLOWSHIPS:
        Fellowship.objects.update_or_create(
            code=code,
            defaults={"name": name, "approach": approach, "audience": audience, "covers": covers, "website": website},
        )


def unseed(apps, schema_editor):
    apps.get_model("directory", "Fellowship").objects.filter(code__in=[f[0] for f in FELLOWSHIPS]).delete()


class Migration(migrations.Migration):
    dependencies = [("directory", "0001_initial")]
    operations = [migrations.RunPython(seed, unseed)]
