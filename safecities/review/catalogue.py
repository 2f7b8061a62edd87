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
    "did_dissimilar": {
        "en": "Difference-in-differences against the {n} closest control zones (none of them "
        "is similar, see below): {eff:+.2f} events per zone and {freq} (95% interval {lo:+.2f} "
        "to {hi:+.2f}); pre-trend test p = {p:.2f}.",
        "nl": "Verschil-in-verschillen tegenover de {n} meest gelijkende controlezones (geen "
        "ervan is vergelijkbaar, zie hieronder): {eff:+.2f} feiten per zone en {freq} "
        "(95%-interval {lo:+.2f} tot {hi:+.2f}); test op voorafgaande trend p = {p:.2f}.",
        "fr": "Différence de différences face aux {n} zones témoins les plus proches (aucune "
        "n'est similaire, voir ci-dessous) : {eff:+.2f} faits par zone et par {freq} "
        "(intervalle à 95 % {lo:+.2f} à {hi:+.2f}) ; test de tendance préalable p = {p:.2f}.",
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
    "power_series": {
        "en": "Power for this series, analysed as this interrupted time series (test of the "
        "level change): with {base:.1f} events per {period} ({pre} periods before, {post} "
        "after){disp}, a {eff:.0f}% reduction would be detected with probability "
        "{p:.0%}; the smallest reduction detected 80% of the time is {mde}.",
        "nl": "Onderscheidend vermogen voor deze reeks, geanalyseerd als deze onderbroken "
        "tijdreeks (toets op de niveauverandering): met {base:.1f} feiten per {period} "
        "({pre} periodes vóór, {post} na){disp} wordt een daling van {eff:.0f}% met kans {p:.0%} "
        "gedetecteerd; de kleinste daling die 80% van de keren wordt gedetecteerd is {mde}.",
        "fr": "Puissance pour cette série, analysée comme cette série temporelle interrompue "
        "(test du changement de niveau) : avec {base:.1f} faits par {period} ({pre} périodes "
        "avant, {post} après){disp}, une baisse de {eff:.0f} % serait détectée avec une "
        "probabilité de {p:.0%} ; la plus petite baisse détectée 80 % du temps est de {mde}.",
    },
    "overdispersed": {
        "en": ", counts more variable than Poisson",
        "nl": ", aantallen meer variabel dan Poisson",
        "fr": ", comptages plus variables qu'une loi de Poisson",
    },
    "pretrend_bad": {
        "en": "Before the measure the treated and control zones already moved differently "
        "(p = {p:.2f}): this comparison is not credible.",
        "nl": "Vóór de maatregel evolueerden de behandelde en de controlezones al verschillend "
        "(p = {p:.2f}): deze vergelijking is niet geloofwaardig.",
        "fr": "Avant la mesure, les zones traitées et témoins évoluaient déjà différemment "
        "(p = {p:.2f}) : cette comparaison n'est pas crédible.",
    },
    "pretrend_weak": {
        "en": "Weak signs that the zones moved differently before the measure (p = {p:.2f}): "
        "read with caution.",
        "nl": "Zwakke aanwijzingen dat de zones vóór de maatregel verschillend evolueerden "
        "(p = {p:.2f}): voorzichtig lezen.",
        "fr": "Faibles signes que les zones évoluaient différemment avant la mesure "
        "(p = {p:.2f}) : à lire avec prudence.",
    },
    "pretrend_ok": {
        "en": "No sign that the zones moved differently before the measure (p = {p:.2f}); this "
        "does not prove they would have moved alike afterwards.",
        "nl": "Geen aanwijzing dat de zones vóór de maatregel verschillend evolueerden "
        "(p = {p:.2f}); dat bewijst niet dat ze nadien gelijk zouden zijn geëvolueerd.",
        "fr": "Aucun signe que les zones évoluaient différemment avant la mesure (p = {p:.2f}) ; "
        "cela ne prouve pas qu'elles auraient évolué de la même façon ensuite.",
    },
    "did_no_similar": {
        "en": "No similar control zones exist: even the nearest differ from the treated zones "
        "by more than one standard deviation in pre-period level or trend.",
        "nl": "Er bestaan geen vergelijkbare controlezones: zelfs de dichtste verschillen meer "
        "dan één standaardafwijking in niveau of trend vóór de maatregel.",
        "fr": "Il n'existe pas de zones témoins similaires : même les plus proches diffèrent de "
        "plus d'un écart-type en niveau ou en tendance avant la mesure.",
    },
    "scm_hull": {
        "en": "The treated zones lie outside the range of the other zones: no weighted mix of "
        "them reproduces the treated zones, so the synthetic control is not credible.",
        "nl": "De behandelde zones liggen buiten het bereik van de andere zones: geen gewogen "
        "mengsel ervan bootst ze na, dus de synthetische controle is niet geloofwaardig.",
        "fr": "Les zones traitées sont hors de la plage des autres zones : aucun mélange pondéré "
        "ne les reproduit, le contrôle synthétique n'est donc pas crédible.",
    },
    "summary_heading": {"en": "Summary", "nl": "Samenvatting", "fr": "Résumé"},
    "table_heading": {
        "en": "Estimates",
        "nl": "Schattingen",
        "fr": "Estimations",
    },  # fmt: skip
    "col_method": {"en": "Method", "nl": "Methode", "fr": "Méthode"},
    "col_estimate": {"en": "Estimate", "nl": "Schatting", "fr": "Estimation"},
    "col_interval": {"en": "95% interval", "nl": "95%-interval", "fr": "Intervalle à 95 %"},
    "col_direction": {"en": "Direction", "nl": "Richting", "fr": "Sens"},
    "col_credibility": {"en": "Credibility", "nl": "Geloofwaardigheid", "fr": "Crédibilité"},
    "dir_down": {"en": "fewer events", "nl": "minder feiten", "fr": "moins de faits"},
    "dir_up": {"en": "more events", "nl": "meer feiten", "fr": "plus de faits"},
    "dir_unclear": {
        "en": "unclear (interval includes no change)",
        "nl": "onduidelijk (interval omvat geen verandering)",
        "fr": "incertain (l'intervalle inclut l'absence de changement)",
    },
    "cred_ok": {"en": "no warning sign", "nl": "geen waarschuwing", "fr": "aucun signal"},
    "cred_pretrend": {
        "en": "not credible: different trends before",
        "nl": "niet geloofwaardig: verschillende trends vooraf",
        "fr": "pas crédible : tendances différentes avant",
    },
    "cred_no_similar": {
        "en": "weak: no similar controls",
        "nl": "zwak: geen vergelijkbare controles",
        "fr": "faible : pas de témoins similaires",
    },  # fmt: skip
    "cred_autocorr": {
        "en": "autocorrelation corrected (wider interval)",
        "nl": "autocorrelatie gecorrigeerd (breder interval)",
        "fr": "autocorrélation corrigée (intervalle plus large)",
    },
    "cred_few": {
        "en": "few events: trend extrapolated",
        "nl": "weinig feiten: trend geëxtrapoleerd",
        "fr": "peu de faits : tendance extrapolée",
    },  # fmt: skip
    "cred_hull": {
        "en": "not credible: outside the donors' range",
        "nl": "niet geloofwaardig: buiten het bereik van de donoren",
        "fr": "pas crédible : hors de la plage des donneurs",
    },
    "cred_placebo": {
        "en": "placebo p = {p:.2f}",
        "nl": "placebo p = {p:.2f}",
        "fr": "placebo p = {p:.2f}",
    },  # fmt: skip
    "summary_down": {
        "en": "In the treated zones, events fell more than expected ({rr:.2f} times the expected "
        "rate); {cred}",
        "nl": "In de behandelde zones daalde het aantal feiten meer dan verwacht ({rr:.2f} keer "
        "het verwachte niveau); {cred}",
        "fr": "Dans les zones traitées, les faits ont baissé plus que prévu ({rr:.2f} fois le "
        "taux attendu) ; {cred}",
    },
    "summary_up": {
        "en": "In the treated zones, events rose more than expected ({rr:.2f} times the expected "
        "rate); {cred}",
        "nl": "In de behandelde zones steeg het aantal feiten meer dan verwacht ({rr:.2f} keer "
        "het verwachte niveau); {cred}",
        "fr": "Dans les zones traitées, les faits ont augmenté plus que prévu ({rr:.2f} fois le "
        "taux attendu) ; {cred}",
    },
    "summary_unclear": {
        "en": "In the treated zones, the data cannot tell whether events changed ({rr:.2f} "
        "times the expected rate, interval {lo:.2f} to {hi:.2f}); {cred}",
        "nl": "In de behandelde zones kunnen de gegevens niet uitmaken of het aantal feiten "
        "veranderde ({rr:.2f} keer het verwachte niveau, interval {lo:.2f} tot {hi:.2f}); {cred}",
        "fr": "Dans les zones traitées, les données ne permettent pas de dire si les faits ont "
        "changé ({rr:.2f} fois le taux attendu, intervalle {lo:.2f} à {hi:.2f}) ; {cred}",
    },
    "summary_power": {
        "en": "a 30% reduction would have been detected with probability {p:.0%}.",
        "nl": "een daling van 30% zou met kans {p:.0%} gedetecteerd zijn.",
        "fr": "une baisse de 30 % aurait été détectée avec une probabilité de {p:.0%}.",
    },
    "limits_heading": {
        "en": "What these data cannot tell you",
        "nl": "Wat deze gegevens u niet kunnen vertellen",
        "fr": "Ce que ces données ne peuvent pas vous dire",
    },
    "limit_concurrent": {
        "en": "Which measure worked: joint patrols and cameras started together, so their "
        "effects cannot be separated.",
        "nl": "Welke maatregel werkte: gezamenlijke patrouilles en camera's startten samen, dus "
        "hun effecten zijn niet te scheiden.",
        "fr": "Quelle mesure a fonctionné : patrouilles conjointes et caméras ont commencé "
        "ensemble, leurs effets ne peuvent être séparés.",
    },
    "limit_rtm": {
        "en": "Whether the fall is just a return to normal: zones are chosen after a cluster of "
        "incidents, and such peaks tend to fall back anyway (regression to the mean).",
        "nl": "Of de daling gewoon een terugkeer naar normaal is: zones worden gekozen na een "
        "opstoot van incidenten, en zulke pieken dalen vaak vanzelf (regressie naar het "
        "gemiddelde).",
        "fr": "Si la baisse n'est qu'un retour à la normale : les zones sont choisies après une "
        "série d'incidents, et de tels pics retombent souvent d'eux-mêmes (régression vers la "
        "moyenne).",
    },
    "limit_rtm_seen": {
        "en": " Here the last quarter before the measure had {ratio:.1f} times the pre-period "
        "average.",
        "nl": " Hier had het laatste kwart vóór de maatregel {ratio:.1f} keer het gemiddelde "
        "van de periode ervoor.",
        "fr": " Ici, le dernier quart avant la mesure comptait {ratio:.1f} fois la moyenne de "
        "la période antérieure.",
    },
    "limit_spill": {
        "en": "Effects on neighbouring areas beyond the rings, or on other kinds of crime: "
        "spill-over is measured only in the rings shown.",
        "nl": "Effecten op buurgebieden voorbij de ringen of op andere soorten criminaliteit: "
        "uitstraling wordt enkel in de getoonde ringen gemeten.",
        "fr": "Les effets sur les quartiers au-delà des anneaux ou sur d'autres formes de "
        "criminalité : le débordement n'est mesuré que dans les anneaux présentés.",
    },
    "limit_small": {
        "en": "Small numbers: with {n} events in the treated zones before the measure, large "
        "changes can happen by chance alone.",
        "nl": "Kleine aantallen: met {n} feiten in de behandelde zones vóór de maatregel kunnen "
        "grote veranderingen louter toevallig zijn.",
        "fr": "Petits nombres : avec {n} faits dans les zones traitées avant la mesure, de "
        "grands changements peuvent relever du seul hasard.",
    },
    "limit_disagree": {
        "en": "The methods disagree on the direction of the change (time series: {its}; "
        "comparison zones: {did}): no single answer can be given.",
        "nl": "De methoden zijn het oneens over de richting van de verandering (tijdreeks: "
        "{its}; vergelijkingszones: {did}): er is geen eenduidig antwoord.",
        "fr": "Les méthodes divergent sur le sens du changement (série temporelle : {its} ; "
        "zones de comparaison : {did}) : aucune réponse unique n'est possible.",
    },
    "caption_trend": {
        "en": "Figure 1. Events per {freq} in the treated zones and the whole city; the dashed "
        "line is the expected count without the measure, the shaded band its 95% interval, the "
        "vertical line the start of the measure.",
        "nl": "Figuur 1. Feiten per {freq} in de behandelde zones en de hele stad; de "
        "stippellijn is het verwachte aantal zonder maatregel, de band het 95%-interval, de "
        "verticale lijn het begin van de maatregel.",
        "fr": "Figure 1. Faits par {freq} dans les zones traitées et toute la ville ; la ligne "
        "pointillée est le nombre attendu sans la mesure, la bande son intervalle à 95 %, la "
        "ligne verticale le début de la mesure.",
    },
    "caption_did": {
        "en": "Figure 2. Left: mean events per zone and {freq}, treated and control zones. "
        "Right: difference treated minus control by {freq} relative to the measure, with 95% "
        "intervals (0 = the {freq} before).",
        "nl": "Figuur 2. Links: gemiddeld aantal feiten per zone en {freq}, behandelde en "
        "controlezones. Rechts: verschil behandeld min controle per {freq} ten opzichte van de "
        "maatregel, met 95%-intervallen.",
        "fr": "Figure 2. À gauche : faits moyens par zone et par {freq}, zones traitées et "
        "témoins. À droite : différence traité moins témoin par {freq} relatif à la mesure, "
        "avec intervalles à 95 %.",
    },
    "axis_time": {"en": "Date", "nl": "Datum", "fr": "Date"},
    "axis_events": {"en": "Events per {freq}", "nl": "Feiten per {freq}", "fr": "Faits par {freq}"},
    "axis_event_time": {
        "en": "{freq}s since the measure",
        "nl": "{freq} sinds de maatregel",
        "fr": "{freq} depuis la mesure",
    },  # fmt: skip
    "axis_difference": {
        "en": "Treated minus control",
        "nl": "Behandeld min controle",
        "fr": "Traité moins témoin",
    },  # fmt: skip
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


class _Num:
    """A number that formats with the language's decimal and group separators (Babel's CLDR
    symbols: 0,45 in Dutch and French, 0.45 in English) under any format spec."""

    def __init__(self, value: float, lang: str) -> None:
        self.value, self.lang = value, lang

    def __format__(self, spec: str) -> str:
        text = format(self.value, spec)
        dec, grp = _symbols(self.lang)
        return text.replace(",", "\0").replace(".", dec).replace("\0", grp)


def _symbols(lang: str) -> tuple[str, str]:
    from babel.numbers import get_decimal_symbol, get_group_symbol

    return get_decimal_symbol(lang), get_group_symbol(lang)


def num(value: float, lang: str, spec: str = ".2f") -> str:
    """`value` formatted with `spec` in the language's number style."""
    return format(_Num(value, lang), spec)


def t(key: str, lang: str, **kw: object) -> str:
    """The string `key` in `lang` (English when a translation is missing), formatted with kw;
    numbers take the language's decimal comma or point."""
    entry = _T[key]
    kw = {
        k: _Num(v, lang) if isinstance(v, int | float) and not isinstance(v, bool) else v
        for k, v in kw.items()
    }
    return entry.get(lang, entry["en"]).format(**kw)
