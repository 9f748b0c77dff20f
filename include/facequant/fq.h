/* facequant: on-device face detection and recognition engine. This header includes the whole
 * public C API. */
#ifndef FACEQUANT_FQ_H
#define FACEQUANT_FQ_H

#include "facequant/alloc.h"
#include "facequant/calibrate.h"
#include "facequant/face.h"
#include "facequant/format.h"
#include "facequant/image.h"
#include "facequant/ir.h"
#include "facequant/npy.h"
#include "facequant/onnx.h"
#include "facequant/ops.h"
#include "facequant/passes.h"
#include "facequant/quantize.h"
#include "facequant/session.h"
#include "facequant/status.h"

#define FQ_VERSION_STRING "0.1.0"

#endif
