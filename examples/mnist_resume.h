// What mnist_train checks before it trains: that the files it will write can be written
// (so a bad --checkpoint fails at once, not after the first epoch), and on --resume that
// the checkpoint was written by a run with the same configuration (Note [run
// configuration]).
#pragma once

#include <cstdint>
#include <string>

#include "../tamegrad.h"
#include "mnist_recipe.h"

namespace tg::examples {

// Throws FlagError naming the flag when --checkpoint, --metrics or --tensorboard cannot be
// written (tried for real: permissions say nothing to root or on a read-only file system).
void check_output_paths(const Flags& f);

// Note [run configuration]: the flags that shape a run's trajectory, with defaults resolved
// ("lr" is the rate used, not -1), as metadata entries "config.<flag>" = value. A checkpoint
// stores them; a resume must give the same values, except --epochs, which may grow when the
// schedule's rates do not depend on it (none, plateau).
Metadata run_configuration(const Flags& f, const std::string& dataset,
                           const data::PixelStats& inputs, int world_size);
// Throws FlagError naming every flag whose value differs from the checkpoint's, with both
// values; or one that says the checkpoint holds no configuration.
void check_resume_configuration(const std::string& path, const Metadata& saved, const Metadata& now,
                                const std::string& schedule);

}  // namespace tg::examples
