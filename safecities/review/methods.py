"""The reference each review method cites in its output (one place, so reports and JSON agree)."""

from __future__ import annotations

REFERENCES: dict[str, str] = {
    "scm": (
        "Synthetic control: Abadie, A., Diamond, A. and Hainmueller, J. (2010), 'Synthetic "
        "Control Methods for Comparative Case Studies', JASA 105(490):493-505; Abadie, A. and "
        "Gardeazabal, J. (2003), 'The Economic Costs of Conflict', AER 93(1):113-132."
    ),
    "scm_placebo": (
        "In-space placebo inference: Abadie, Diamond and Hainmueller (2010), section 3.3; "
        "post/pre RMSPE ratio: Abadie, Diamond and Hainmueller (2015), AJPS 59(2):495-510."
    ),
    "its": (
        "Interrupted time series, segmented regression: Bernal, J.L., Cummins, S. and Gasparrini, "
        "A. (2017), 'Interrupted time series regression for the evaluation of public health "
        "interventions: a tutorial', Int. J. Epidemiol. 46(1):348-355; Wagner, A.K. et al. "
        "(2002), J. Clin. Pharm. Ther. 27(4):299-309."
    ),
    "did": (
        "Difference-in-differences with event-study leads and lags: Angrist, J.D. and Pischke, "
        "J.-S. (2009), Mostly Harmless Econometrics, ch. 5; pre-trend test: Roth, J. (2022), "
        "AER: Insights 4(3):305-322."
    ),
    "cs_did": (
        "Staggered adoption, group-time average treatment effects: Callaway, B. and Sant'Anna, "
        "P.H.C. (2021), 'Difference-in-Differences with multiple time periods', J. Econometrics "
        "225(2):200-230."
    ),
    "power": (
        "Power by simulation (Monte Carlo) for count outcomes: Arnold, B.F. et al. (2011), "
        "'Simulation methods to estimate design power', BMC Med. Res. Methodol. 11:94."
    ),
    "wdq": (
        "Weighted displacement quotient: Bowers, K.J. and Johnson, S.D. (2003), 'Measuring the "
        "geographical displacement and diffusion of benefit effects of crime prevention "
        "activity', J. Quant. Criminol. 19(3):275-301."
    ),
    "wdd": (
        "Weighted displacement difference test: Wheeler, A.P. and Ratcliffe, J.H. (2018), 'A "
        "simple weighted displacement difference test to evaluate place based crime "
        "interventions', Crime Science 7:11."
    ),
    "placebo_time": (
        "Placebo-in-time (falsification) test: Abadie, Diamond and Hainmueller (2015); Bernal, "
        "Cummins and Gasparrini (2018), Int. J. Epidemiol. 47(6):2082-2093."
    ),
}


def cite(*keys: str) -> list[str]:
    return [REFERENCES[k] for k in keys]
