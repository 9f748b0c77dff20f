/* How closely a model's outputs follow a reference model's on the same inputs: cosine per
 * input (mean and min over inputs), largest absolute error, and SQNR over every element. */
#ifndef FQ_TOOLS_EVAL_AGREEMENT_H
#define FQ_TOOLS_EVAL_AGREEMENT_H

#include <stddef.h>
#include <stdint.h>

typedef struct fq_agreement {
    int inputs;
    double cosine_sum;
    double cosine_min;
    double max_abs_error;
    double signal;        /* sum of ref^2 */
    double noise;         /* sum of (ref - test)^2 */
    int64_t non_finite;   /* elements where either side is NaN or infinite (left out) */
} fq_agreement;

/* Sums of one input, over one or several arrays, until fq_agreement_end_input. */
typedef struct fq_agreement_input {
    double dot;
    double ref_squares;
    double test_squares;
} fq_agreement_input;

void fq_agreement_init(fq_agreement *agreement);

/* Adds n elements of one input: error and SQNR sums into agreement, the cosine's sums into
 * input. */
void fq_agreement_add(fq_agreement *agreement, fq_agreement_input *input, const float *ref,
                      const float *test, size_t n);

/* Closes one input: its cosine enters the mean and the minimum. Two zero vectors have cosine 1,
 * a zero vector against another one 0. */
void fq_agreement_end_input(fq_agreement *agreement, const fq_agreement_input *input);

/* Mean cosine over the inputs (1 when there is none). */
double fq_agreement_cosine_mean(const fq_agreement *agreement);

/* 10 log10(signal / noise) in dB; INFINITY when the outputs are identical. */
double fq_agreement_sqnr_db(const fq_agreement *agreement);

#endif
