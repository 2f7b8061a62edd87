"""Every user-facing string of the review report, in Dutch, French and English (one catalogue)."""

from __future__ import annotations

LANGS = ("nl", "fr", "en")

_T: dict[str, dict[str, str]] = {
    "title": {
        "en": "Outcome review: {title}",
        "nl": "Evaluatie van de resultaten: {title}",
        "fr": "Évaluation des résultats : {title}",
    },
    "synthetic": {
        "en": "SYNTHETIC DATA: these incidents are the generated demonstration scenario, not real "
        "events. No conclusion about Brussels may be drawn from them.",
        "nl": "SYNTHETISCHE GEGEVENS: deze incidenten zijn het gegenereerde demonstratiescenario, "
        "geen echte feiten. Er mag geen conclusie over Brussel uit getrokken worden.",
        "fr": "DONNÉES SYNTHÉTIQUES : ces incidents sont le scénario de démonstration généré, pas "
        "des faits réels. Aucune conclusion sur Bruxelles ne peut en être tirée.",
    },
    "design": {
        "en": "Outcome: {outcome}. Treated zones: {units}. Measure from {intervention}; "
        "before {pre}, after {post}. Primary method: {method}.",
        "nl": "Uitkomst: {outcome}. Behandelde zones: {units}. Maatregel vanaf {intervention}; "
        "vóór {pre}, na {post}. Primaire methode: {method}.",
        "fr": "Résultat : {outcome}. Zones traitées : {units}. Mesure à partir du "
        "{intervention} ; avant {pre}, après {post}. Méthode principale : {method}.",
    },
    "plan_ok": {
        "en": "The analysis follows the plan registered on {at} (SHA-256 {sha}), before the "
        "post-period.",
        "nl": "De analyse volgt het plan dat op {at} werd geregistreerd (SHA-256 {sha}), vóór "
        "de periode na de maatregel.",
        "fr": "L'analyse suit le plan enregistré le {at} (SHA-256 {sha}), avant la période "
        "après la mesure.",
    },
    "plan_not_registered": {
        "en": "This plan (SHA-256 {sha}) was NOT registered in advance (or was changed since): "
        "treat the results as exploratory.",
        "nl": "Dit plan (SHA-256 {sha}) werd NIET vooraf geregistreerd (of werd sindsdien "
        "gewijzigd): beschouw de resultaten als verkennend.",
        "fr": "Ce plan (SHA-256 {sha}) n'a PAS été enregistré à l'avance (ou a été modifié "
        "depuis) : considérez les résultats comme exploratoires.",
    },
    "plan_late": {
        "en": "The plan was registered on {at}, AFTER the post-period had started.",
        "nl": "Het plan werd op {at} geregistreerd, NA het begin van de periode na de maatregel.",
        "fr": "Le plan a été enregistré le {at}, APRÈS le début de la période après la mesure.",
    },
    "plan_deviation": {
        "en": "Departure from the plan: {field} planned {planned}, used {used}.",
        "nl": "Afwijking van het plan: {field} gepland {planned}, gebruikt {used}.",
        "fr": "Écart par rapport au plan : {field} prévu {planned}, utilisé {used}.",
    },
    "counts": {
        "en": "In the treated zones: {pre_n} events before ({pre_rate:.1f} a month), {post_n} "
        "after ({post_rate:.1f} a month). City-wide: {city_pre} before, {city_post} after.",
        "nl": "In de behandelde zones: {pre_n} feiten vóór ({pre_rate:.1f} per maand), {post_n} "
        "na ({post_rate:.1f} per maand). Hele stad: {city_pre} vóór, {city_post} na.",
        "fr": "Dans les zones traitées : {pre_n} faits avant ({pre_rate:.1f} par mois), "
        "{post_n} après ({post_rate:.1f} par mois). Toute la ville : {city_pre} avant, "
        "{city_post} après.",
    },
    "its": {
        "en": "Interrupted time series ({scope}): compared with the trend before, the rate after "
        "the measure is {rr:.2f} times the expected rate (95% interval {lo:.2f} to {hi:.2f}); "
        "{averted:.1f} events averted (95% interval {alo:.1f} to {ahi:.1f}).",
        "nl": "Onderbroken tijdreeks ({scope}): vergeleken met de trend ervoor is het niveau na "
        "de maatregel {rr:.2f} keer het verwachte (95%-interval {lo:.2f} tot {hi:.2f}); "
        "{averted:.1f} vermeden feiten (95%-interval {alo:.1f} tot {ahi:.1f}).",
        "fr": "Série temporelle interrompue ({scope}) : par rapport à la tendance antérieure, "
        "le taux après la mesure vaut {rr:.2f} fois le taux attendu (intervalle à 95 % {lo:.2f} "
        "à {hi:.2f}) ; {averted:.1f} faits évités (intervalle à 95 % {alo:.1f} à {ahi:.1f}).",
    },
    "did": {
        "en": "Difference-in-differences against {n} similar control zones: {eff:+.2f} events "
        "per zone and {freq} (95% interval {lo:+.2f} to {hi:+.2f}); pre-trend test p = {p:.2f}.",
        "nl": "Verschil-in-verschillen tegenover {n} vergelijkbare controlezones: {eff:+.2f} "
        "feiten per zone en {freq} (95%-interval {lo:+.2f} tot {hi:+.2f}); test op "
        "voorafgaande trend p = {p:.2f}.",
        "fr": "Différence de différences face à {n} zones témoins similaires : {eff:+.2f} faits "
        "par zone et par {freq} (intervalle à 95 % {lo:+.2f} à {hi:+.2f}) ; test de tendance "
        "préalable p = {p:.2f}.",
    },
    "scm": {
        "en": "Synthetic control: mean gap after the measure {eff:+.2f} (placebo p = {p:.2f}, "
        "rank {rank} of {n}).",
        "nl": "Synthetische controle: gemiddeld verschil na de maatregel {eff:+.2f} "
        "(placebo p = {p:.2f}, rang {rank} van {n}).",
        "fr": "Contrôle synthétique : écart moyen après la mesure {eff:+.2f} (placebo "
        "p = {p:.2f}, rang {rank} sur {n}).",
    },
    "wdq": {
        "en": "Displacement, ring {lo:.0f}-{hi:.0f} m: weighted displacement quotient {wdq}; "
        "reading: {reading}.",
        "nl": "Verplaatsing, ring {lo:.0f}-{hi:.0f} m: gewogen verplaatsingsquotiënt {wdq}; "
        "lezing: {reading}.",
        "fr": "Déplacement, anneau {lo:.0f}-{hi:.0f} m : quotient de déplacement pondéré "
        "{wdq} ; lecture : {reading}.",
    },
    "power": {
        "en": "Power: with {base:.1f} events a month, a {eff:.0f}% reduction over {months} "
        "months would be detected with probability {p:.0%}; the smallest reduction detected "
        "80% of the time is {mde}.",
        "nl": "Onderscheidend vermogen: met {base:.1f} feiten per maand wordt een daling van "
        "{eff:.0f}% over {months} maanden met kans {p:.0%} gedetecteerd; de kleinste daling die "
        "80% van de keren wordt gedetecteerd is {mde}.",
        "fr": "Puissance : avec {base:.1f} faits par mois, une baisse de {eff:.0f} % sur "
        "{months} mois serait détectée avec une probabilité de {p:.0%} ; la plus petite baisse "
        "détectée 80 % du temps est de {mde}.",
    },
    "mde_none": {"en": "out of reach", "nl": "onbereikbaar", "fr": "hors de portée"},
    "verdict_inconclusive": {
        "en": "Plain words: the interval includes both no effect and a large effect. These "
        "numbers can neither show that the measure worked nor that it failed.",
        "nl": "In gewone woorden: het interval omvat zowel geen effect als een groot effect. "
        "Deze cijfers tonen niet aan dat de maatregel werkte, noch dat hij faalde.",
        "fr": "En clair : l'intervalle inclut à la fois l'absence d'effet et un effet important. "
        "Ces chiffres ne montrent ni que la mesure a fonctionné, ni qu'elle a échoué.",
    },
    "verdict_down": {
        "en": "Plain words: events fell more than the trend predicts, and chance alone is an "
        "unlikely explanation; other changes at the same time may still explain it.",
        "nl": "In gewone woorden: het aantal feiten daalde meer dan de trend voorspelt, en "
        "toeval alleen is een onwaarschijnlijke verklaring; andere gelijktijdige veranderingen "
        "kunnen het nog steeds verklaren.",
        "fr": "En clair : les faits ont baissé plus que ne le prédit la tendance, et le hasard "
        "seul est une explication peu probable ; d'autres changements simultanés peuvent "
        "encore l'expliquer.",
    },
    "verdict_up": {
        "en": "Plain words: events rose more than the trend predicts; the measure did not "
        "prevent an increase.",
        "nl": "In gewone woorden: het aantal feiten steeg meer dan de trend voorspelt; de "
        "maatregel verhinderde geen toename.",
        "fr": "En clair : les faits ont augmenté plus que ne le prédit la tendance ; la mesure "
        "n'a pas empêché une hausse.",
    },
    "not_estimable": {
        "en": "{what}: not estimable ({reason}).",
        "nl": "{what}: niet te schatten ({reason}).",
        "fr": "{what} : non estimable ({reason}).",
    },
    "no_post": {
        "en": "The post-period has no data yet: only the power calculation is reported.",
        "nl": "De periode na de maatregel heeft nog geen gegevens: enkel het onderscheidend "
        "vermogen wordt gerapporteerd.",
        "fr": "La période après la mesure n'a pas encore de données : seule la puissance est "
        "présentée.",
    },
    "methods": {
        "en": "Methods and references",
        "nl": "Methoden en referenties",
        "fr": "Méthodes et références",
    },  # fmt: skip
    "chart_trend": {
        "en": "Events per {freq}",
        "nl": "Feiten per {freq}",
        "fr": "Faits par {freq}",
    },  # fmt: skip
    "chart_observed": {"en": "observed", "nl": "waargenomen", "fr": "observé"},
    "chart_counterfactual": {
        "en": "expected without measure (95% PI)",
        "nl": "verwacht zonder maatregel (95% PI)",
        "fr": "attendu sans mesure (IP 95 %)",
    },
    "chart_treated": {"en": "treated zones", "nl": "behandelde zones", "fr": "zones traitées"},
    "chart_control": {"en": "control zones", "nl": "controlezones", "fr": "zones témoins"},
    "chart_event": {
        "en": "Event study (treated minus controls)",
        "nl": "Gebeurtenisstudie (behandeld min controle)",
        "fr": "Étude d'événement (traité moins témoin)",
    },
    "week": {"en": "week", "nl": "week", "fr": "semaine"},
    "month": {"en": "month", "nl": "maand", "fr": "mois"},
    "scope_zones": {"en": "treated zones", "nl": "behandelde zones", "fr": "zones traitées"},
    "scope_city": {"en": "whole city", "nl": "hele stad", "fr": "toute la ville"},
    "reading_no_success": {
        "en": "no reduction in the treated zones, so not interpretable",
        "nl": "geen daling in de behandelde zones, dus niet te interpreteren",
        "fr": "pas de baisse dans les zones traitées, donc non interprétable",
    },
    "reading_too_few_events": {
        "en": "too few incidents for a reading (fewer than {n} in the zones and ring)",
        "nl": "te weinig incidenten voor een oordeel (minder dan {n} in de zones en de ring)",
        "fr": "trop peu d'incidents pour une lecture (moins de {n} dans les zones et l'anneau)",
    },
    "reading_no_clear_success": {
        "en": "no reduction in the treated zones beyond chance, so not interpretable",
        "nl": "geen daling in de behandelde zones buiten het toeval, dus niet te interpreteren",
        "fr": "pas de baisse dans les zones traitées au-delà du hasard, donc non interprétable",
    },
    "reading_within_noise": {
        "en": "no change in the ring beyond chance: neither displacement nor diffusion shown",
        "nl": "geen verandering in de ring buiten het toeval: verplaatsing noch uitstraling "
        "aangetoond",
        "fr": "pas de changement dans l'anneau au-delà du hasard : ni déplacement ni diffusion "
        "démontrés",
    },
    "reading_diffusion_larger_than_effect": {
        "en": "benefits spread beyond the zones, more than the direct effect",
        "nl": "gunstige uitstraling buiten de zones, groter dan het directe effect",
        "fr": "diffusion des bénéfices au-delà des zones, plus grande que l'effet direct",
    },
    "reading_diffusion": {
        "en": "some benefits spread to the ring",
        "nl": "enige gunstige uitstraling naar de ring",
        "fr": "une partie des bénéfices s'étend à l'anneau",
    },
    "reading_neither": {
        "en": "neither displacement nor diffusion",
        "nl": "verplaatsing noch uitstraling",
        "fr": "ni déplacement ni diffusion",
    },
    "reading_displacement_smaller_than_effect": {
        "en": "some displacement to the ring, smaller than the direct effect",
        "nl": "enige verplaatsing naar de ring, kleiner dan het directe effect",
        "fr": "un certain déplacement vers l'anneau, plus petit que l'effet direct",
    },
    "reading_displacement_larger_than_effect": {
        "en": "displacement to the ring larger than the direct effect",
        "nl": "verplaatsing naar de ring groter dan het directe effect",
        "fr": "déplacement vers l'anneau plus grand que l'effet direct",
    },
}


def t(key: str, lang: str, **kw: object) -> str:
    """The string `key` in `lang` (English when a translation is missing), formatted with kw."""
    entry = _T[key]
    return entry.get(lang, entry["en"]).format(**kw)
