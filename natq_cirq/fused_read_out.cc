// One CPU kernel for the read-out of neurons that carry a state: R_Y rotation of the Bloch circle,
// the sampled outcome and eq. 9's collapse, in one pass over memory. The formulas are those of
// natq_cirq/physics.py (rotate_bloch, read_out, post_measurement_state), which tests hold this
// kernel to; TensorFlow's separate ops make one memory pass per operation, about twenty here.
//
// Inputs, all float32 of one shape: sin_half, cos_half (sin and cos of pi/2 phi_a(h)), d_prev,
// z, x (the carried Bloch components), u (uniform draws). Attributes: strength = sin g, cos_g.
// Outputs: d, z, x after the read-out.

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
    .Input("sin_half: float")
    .Input("cos_half: float")
    .Input("d_prev: float")
    .Input("z: float")
    .Input("x: float")
    .Input("u: float")
    .Attr("strength: float")
    .Attr("cos_g: float")
    .Output("d: float")
    .Output("z_out: float")
    .Output("x_out: float")
    .SetShapeFn([](tensorflow::shape_inference::InferenceContext* c) {
      for (int i = 0; i < 3; ++i) c->set_output(i, c->input(3));
      return tensorflow::OkStatus();
    });

class CarriedReadOutOp : public OpKernel {
 public:
  explicit CarriedReadOutOp(OpKernelConstruction* context) : OpKernel(context) {
    OP_REQUIRES_OK(context, context->GetAttr("strength", &strength_));
    OP_REQUIRES_OK(context, context->GetAttr("cos_g", &cos_g_));
  }

  void Compute(OpKernelContext* context) override {
    const Tensor& z_in = context->input(3);
    for (int i = 0; i < 6; ++i) {
      OP_REQUIRES(context, context->input(i).shape() == z_in.shape(),
                  tensorflow::errors::InvalidArgument("all inputs need the shape of z"));
    }
    const float* sin_half = context->input(0).flat<float>().data();
    const float* cos_half = context->input(1).flat<float>().data();
    const float* d_prev = context->input(2).flat<float>().data();
    const float* z = z_in.flat<float>().data();
    const float* x = context->input(4).flat<float>().data();
    const float* u = context->input(5).flat<float>().data();
    Tensor* outputs[3];
    for (int i = 0; i < 3; ++i) {
      OP_REQUIRES_OK(context, context->allocate_output(i, z_in.shape(), &outputs[i]));
    }
    float* d = outputs[0]->flat<float>().data();
    float* z_out = outputs[1]->flat<float>().data();
    float* x_out = outputs[2]->flat<float>().data();
    const float s = strength_, half_s = 0.5f * strength_, cos_g = cos_g_;
    auto work = [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) {
        // R_Y(theta): cos theta = d_prev sin(pi/2 phi), sin theta = d_prev cos(pi/2 phi).
        const float cos_t = d_prev[i] * sin_half[i], sin_t = d_prev[i] * cos_half[i];
        const float zp = cos_t * z[i] - sin_t * x[i], xp = cos_t * x[i] + sin_t * z[i];
        // P(d = +1) = (1 + s z) / 2, then eq. 9 in Bloch form.
        const float outcome = u[i] < 0.5f + half_s * zp ? 1.0f : -1.0f;
        const float ds = outcome * s;
        const float inverse = 1.0f / std::max(1.0f + ds * zp, 1e-30f);
        d[i] = outcome;
        z_out[i] = (zp + ds) * inverse;
        x_out[i] = (cos_g * inverse) * xp;
      }
    };
    const auto& threads = *context->device()->tensorflow_cpu_worker_threads();
    tensorflow::Shard(threads.num_threads, threads.workers, z_in.NumElements(), 40, work);
  }

 private:
  float strength_, cos_g_;
};

REGISTER_KERNEL_BUILDER(Name("NatqCarriedReadOut").Device(DEVICE_CPU), CarriedReadOutOp);
