#pragma once
// The data/ module: datasets, splits, the DataLoader, transforms and the IDX and CSV readers.
#include "xgrad/data/csv.hpp"
#include "xgrad/data/dataloader.hpp"
#include "xgrad/data/dataset.hpp"
#include "xgrad/data/idx.hpp"
#include "xgrad/data/transforms.hpp"
