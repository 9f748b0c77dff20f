/* Output agreement between two models. */
#include <math.h>

#include "eval/agreement.h"

void fq_agreement_init(fq_agreement *agreement)
{
    *agreement = (fq_agreement){.cosine_min = 1.0};
}

void fq_agreement_add(fq_agreement *agreement, fq_agreement_input *input, const float *ref,
                      const float *test, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        double r = ref[i], t = test[i];
        if (!isfinite(r) || !isfinite(t)) {
            agreement->non_finite++;
            continue;
        }
        double d = fabs(r - t);
        if (d > agreement->max_abs_error)
            agreement->max_abs_error = d;
        agreement->signal += r * r;
        agreement->noise += d * d;
        input->dot += r * t;
        input->ref_squares += r * r;
        input->test_squares += t * t;
    }
}

static double input_cosine(const fq_agreement_input *input)
{
    if (input->ref_squares == 0.0 && input->test_squares == 0.0)
        return 1.0;
    if (input->ref_squares == 0.0 || input->test_squares == 0.0)
        return 0.0;
    double c = input->dot / (sqrt(input->ref_squares) * sqrt(input->test_squares));
    return c > 1.0 ? 1.0 : c < -1.0 ? -1.0 : c;
}

void fq_agreement_end_input(fq_agreement *agreement, const fq_agreement_input *input)
{
    double c = input_cosine(input);
    agreement->cosine_sum += c;
    if (agreement->inputs == 0 || c < agreement->cosine_min)
        agreement->cosine_min = c;
    agreement->inputs++;
}

double fq_agreement_cosine_mean(const fq_agreement *agreement)
{
    return agreement->inputs > 0 ? agreement->cosine_sum / agreement->inputs : 1.0;
}

double fq_agreement_sqnr_db(const fq_agreement *agreement)
{
    if (agreement->noise == 0.0)
        return INFINITY;
    if (agreement->signal == 0.0)
        return -INFINITY;
    return 10.0 * log10(agreement->signal / agreement->noise);
}
