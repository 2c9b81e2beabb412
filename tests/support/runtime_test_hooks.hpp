// RuntimeTestHooks: the runtime's own tests reach its scheduler through this friend of
// chronos::Runtime, so the public class needs no impl() accessor.
#pragma once

#include "RuntimeImpl.hpp"  // runtime/src
#include "chronos/Runtime.hpp"

namespace chronos {

class RuntimeTestHooks {
 public:
  static Scheduler& scheduler(Runtime& runtime) { return runtime.impl_->scheduler; }
};

}  // namespace chronos
