// One CPU kernel for the read-out of neurons that carry a state: the rotation angle from the
// pre-activation, R_Y on the Bloch circle, the sampled outcome and eq. 9's collapse, in one pass
// over memory. The formulas are those of natq_cirq/physics.py (half_turn, rotate_bloch, read_out,
// post_measurement_state), which tests hold this kernel to; TensorFlow's separate ops make one
// memory pass per operation, about twenty-five here. The sine and cosine are polynomials (see
// half_turn_polynomial) so that the whole loop vectorizes.
//
// Inputs, all float32 of one shape: h (pre-activations), d_prev, z, x (the carried Bloch
// components; ignored when from_basis, the neuron then being in |d_prev>), u (uniform draws).
// Attributes: a (> 0), strength = sin g, cos_g, from_basis. Outputs: d, z, x after the read-out.

#include <algorithm>

#include "tensorflow/core/framework/op.h"
#include "tensorflow/core/framework/op_kernel.h"
#include "tensorflow/core/framework/shape_inference.h"
#include "tensorflow/core/util/work_sharder.h"

using tensorflow::DEVICE_CPU;
using tensorflow::OpKernel;
using tensorflow::OpKernelConstruction;
using tensorflow::OpKernelContext;
using tensorflow::Tensor;

REGISTER_OP("NatqCarriedReadOut")
    .Input("h: float")
    .Input("d_prev: float")
    .Input("z: float")
    .Input("x: float")
    .Input("u: float")
    .Attr("a: float")
    .Attr("strength: float")
    .Attr("cos_g: float")
    .Attr("from_basis: bool")
    .Output("d: float")
    .Output("z_out: float")
    .Output("x_out: float")
    .SetShapeFn([](tensorflow::shape_inference::InferenceContext* c) {
      for (int i = 0; i < 3; ++i) c->set_output(i, c->input(0));
      return tensorflow::OkStatus();
    });

class CarriedReadOutOp : public OpKernel {
 public:
  explicit CarriedReadOutOp(OpKernelConstruction* context) : OpKernel(context) {
    OP_REQUIRES_OK(context, context->GetAttr("a", &a_));
    OP_REQUIRES_OK(context, context->GetAttr("strength", &strength_));
    OP_REQUIRES_OK(context, context->GetAttr("cos_g", &cos_g_));
    OP_REQUIRES_OK(context, context->GetAttr("from_basis", &from_basis_));
    OP_REQUIRES(context, a_ > 0, tensorflow::errors::InvalidArgument("a must be > 0"));
  }

  void Compute(OpKernelContext* context) override {
    const Tensor& h_in = context->input(0);
    for (int i = 1; i < 5; ++i) {
      OP_REQUIRES(context, context->input(i).shape() == h_in.shape(),
                  tensorflow::errors::InvalidArgument("all inputs need the shape of h"));
    }
    const float* h = h_in.flat<float>().data();
    const float* d_prev = context->input(1).flat<float>().data();
    const float* z = context->input(2).flat<float>().data();
    const float* x = context->input(3).flat<float>().data();
    const float* u = context->input(4).flat<float>().data();
    Tensor* outputs[3];
    for (int i = 0; i < 3; ++i) {
      OP_REQUIRES_OK(context, context->allocate_output(i, h_in.shape(), &outputs[i]));
    }
    float* d = outputs[0]->flat<float>().data();
    float* z_out = outputs[1]->flat<float>().data();
    float* x_out = outputs[2]->flat<float>().data();
    const float a = a_, s = strength_, cos_g = cos_g_;
    auto work = [&](int64_t begin, int64_t end) {
      // Two loops rather than a branch inside one, so that the compiler vectorizes both.
      if (from_basis_) {
        Loop<true>(begin, end, a, s, cos_g, h, d_prev, z, x, u, d, z_out, x_out);
      } else {
        Loop<false>(begin, end, a, s, cos_g, h, d_prev, z, x, u, d, z_out, x_out);
      }
    };
    const auto& threads = *context->device()->tensorflow_cpu_worker_threads();
    tensorflow::Shard(threads.num_threads, threads.workers, h_in.NumElements(), 60, work);
  }

 private:
  template <bool kFromBasis>
  static void Loop(int64_t begin, int64_t end, float a, float s, float cos_g,
                   const float* __restrict__ h, const float* __restrict__ d_prev,
                   const float* __restrict__ z, const float* __restrict__ x,
                   const float* __restrict__ u, float* __restrict__ d,
                   float* __restrict__ z_out, float* __restrict__ x_out) {
    const float half_s = 0.5f * s;
    for (int64_t i = begin; i < end; ++i) {
      // phi_a(h), then sin and cos of pi/2 phi (see half_turn_polynomial).
      const float phi = std::min(std::max(h[i] / a, -1.0f), 1.0f);
      float sin_half, cos_half;
      half_turn_polynomial(phi, &sin_half, &cos_half);
      // R_Y(theta): cos theta = d_prev sin(pi/2 phi), sin theta = d_prev cos(pi/2 phi).
      const float cos_t = d_prev[i] * sin_half, sin_t = d_prev[i] * cos_half;
      const float z_i = kFromBasis ? d_prev[i] : z[i], x_i = kFromBasis ? 0.0f : x[i];
      const float zp = cos_t * z_i - sin_t * x_i, xp = cos_t * x_i + sin_t * z_i;
      // P(d = +1) = (1 + s z) / 2, then eq. 9 in Bloch form.
      const float outcome = u[i] < 0.5f + half_s * zp ? 1.0f : -1.0f;
      const float ds = outcome * s;
      const float inverse = 1.0f / std::max(1.0f + ds * zp, 1e-30f);
      d[i] = outcome;
      z_out[i] = (zp + ds) * inverse;
      x_out[i] = (cos_g * inverse) * xp;
    }
  }

  // sin(pi/2 y) and cos(pi/2 y) on y in [-1, 1] by their Taylor series to degree 13 and 14, whose
  // truncation errors (7e-10, 7e-11) lie far below float32 rounding: plain arithmetic that the
  // compiler vectorizes, where a call to the C library's sinf and cosf would not be.
  static inline void half_turn_polynomial(float y, float* sin_out, float* cos_out) {
    const float t = y * y;
    const float sin_series =
        1.5707963267948966f +
        t * (-0.6459640975062462f +
             t * (0.07969262624616704f +
                  t * (-0.004681754135318687f +
                       t * (0.00016044118478735982f +
                            t * (-3.598843235212085e-06f + t * 5.692172921967926e-08f)))));
    const float cos_series =
        1.0f +
        t * (-1.2337005501361697f +
             t * (0.25366950790104797f +
                  t * (-0.020863480763352958f +
                       t * (0.0009192602748394263f +
                            t * (-2.5202042373060604e-05f +
                                 t * (4.7108747788181715e-07f + t * -6.386603083791952e-09f))))));
    *sin_out = y * sin_series;
    *cos_out = cos_series;
  }

  float a_, strength_, cos_g_;
  bool from_basis_;
};

REGISTER_KERNEL_BUILDER(Name("NatqCarriedReadOut").Device(DEVICE_CPU), CarriedReadOutOp);
