// History (series by name, NaN for gaps, CSV) and the progress bar's two forms (a line redrawn
// in place on a terminal, one plain line per epoch otherwise).
#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "../dataio/temp_dir.hpp"
#include "xgrad/train/history.hpp"
#include "xgrad/train/progress.hpp"
#include "xgrad/xgrad.hpp"

namespace xgrad::train {
namespace {

using xgrad::testing::message_of;
using xgrad::testing::TempDir;

TEST(History, SeriesByNameWithNaNForGaps) {
  History h;
  h.append({{"loss", 1.0}, {"accuracy", 0.5}});
  h.append({{"loss", 0.5}, {"val_loss", 0.7}});
  EXPECT_EQ(h.epochs(), 2);
  EXPECT_EQ(h["loss"], std::vector<double>({1.0, 0.5}));
  EXPECT_TRUE(std::isnan(h["val_loss"][0]));
  EXPECT_EQ(h["val_loss"][1], 0.7);
  EXPECT_EQ(h.at("accuracy")[0], 0.5);
  EXPECT_TRUE(std::isnan(h["accuracy"][1]));
  EXPECT_EQ(h.names(), std::vector<std::string>({"loss", "accuracy", "val_loss"}));
  EXPECT_TRUE(h.has("loss"));
  EXPECT_FALSE(h.has("lr"));
  const std::string message = message_of<ValueError>([&] { h["lr"]; });
  EXPECT_NE(message.find("recorded: loss, accuracy, val_loss"), std::string::npos) << message;
}

TEST(History, CsvHasAHeaderAndOneRowPerEpoch) {
  History h;
  h.append({{"seconds", 2.0}, {"lr", 0.001}, {"loss", 0.25}, {"accuracy", 0.5}, {"top5", 0.75}});
  h.append({{"loss", 0.125}});
  EXPECT_EQ(h.to_csv_string(), "epoch,loss,accuracy,top5,lr,seconds\n1,0.25,0.5,0.75,0.001,2\n2,0.125,,,,\n");
  TempDir dir;
  h.to_csv(dir.file("history.csv"));
  std::ifstream in(dir.file("history.csv"));
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_EQ(text.str(), h.to_csv_string());
  EXPECT_THROW(h.to_csv(dir.file("no/such/dir/h.csv")), IOError);
}

TEST(FormatDuration, MinutesAndHours) {
  EXPECT_EQ(format_duration(0), "0:00");
  EXPECT_EQ(format_duration(7.4), "0:07");
  EXPECT_EQ(format_duration(62), "1:02");
  EXPECT_EQ(format_duration(3723), "1:02:03");
  EXPECT_EQ(format_duration(-1), "?");
  EXPECT_EQ(format_duration(NAN), "?");
}

TEST(ProgressBar, PlainOutputIsOneLinePerEpoch) {
  std::ostringstream out;
  ProgressBar bar(out, {.epoch = 3, .epochs = 20, .total_batches = 4, .tty = false});
  for (int b = 1; b <= 4; ++b) bar.update(b, 32 * b, {{"loss", 0.5}, {"accuracy", 0.75}});
  EXPECT_EQ(out.str(), "");  // nothing until the epoch ends
  bar.finish({{"loss", 0.5}, {"accuracy", 0.75}, {"val_loss", 0.625}, {"lr", 0.001}, {"seconds", 1.0}});
  const std::string line = out.str();
  EXPECT_EQ(line.rfind("Epoch 3/20 - 4/4 - ", 0), 0u) << line;
  EXPECT_NE(line.find("samples/s - loss 0.5000 - accuracy 0.7500 - val_loss 0.6250 - lr 0.001\n"), std::string::npos)
      << line;
  EXPECT_EQ(line.find("seconds"), std::string::npos);
  EXPECT_EQ(std::count(line.begin(), line.end(), '\n'), 1);
}

TEST(ProgressBar, TerminalOutputRedrawsOneLine) {
  std::ostringstream out;
  ProgressBar bar(out, {.epoch = 1, .epochs = 2, .total_batches = 4, .width = 8, .tty = true, .min_interval = 0.0});
  bar.update(1, 10, {{"loss", 2.0}});
  bar.update(2, 20, {{"loss", 1.5}, {"accuracy", 0.25}});
  const std::string partial = out.str();
  EXPECT_EQ(partial.front(), '\r');
  EXPECT_NE(partial.find("Epoch 1/2 [==>.....]  25% 1/4"), std::string::npos) << partial;
  EXPECT_NE(partial.find("[====>...]  50% 2/4"), std::string::npos) << partial;
  EXPECT_NE(partial.find("loss 1.5000  accuracy 0.2500"), std::string::npos) << partial;
  EXPECT_NE(partial.find("samples/s"), std::string::npos);
  EXPECT_EQ(partial.find('\n'), std::string::npos);
  bar.finish({{"loss", 1.0}, {"val_loss", 1.25}, {"lr", 0.01}});
  const std::string done = out.str();
  EXPECT_NE(done.find("[========] 100% 4/4"), std::string::npos) << done;
  EXPECT_NE(done.find("val_loss 1.2500"), std::string::npos) << done;
  EXPECT_EQ(done.back(), '\n');
}

TEST(ProgressBar, TerminalRedrawsAreThrottled) {
  std::ostringstream out;
  ProgressBar bar(out, {.epoch = 1, .epochs = 1, .total_batches = 1000, .tty = true, .min_interval = 60.0});
  const auto redraws = [&] {
    const std::string text = out.str();
    return std::count(text.begin(), text.end(), '\r');
  };
  for (int b = 1; b < 1000; ++b) bar.update(b, b, {{"loss", 1.0}});
  EXPECT_EQ(redraws(), 1);                  // only the first
  bar.update(1000, 1000, {{"loss", 1.0}});  // the last always draws
  EXPECT_EQ(redraws(), 2);
}

TEST(ProgressBar, RejectsBadOptions) {
  std::ostringstream out;
  EXPECT_THROW(ProgressBar(out, {.total_batches = -1}), ValueError);
  EXPECT_THROW(ProgressBar(out, {.total_batches = 1, .width = 0}), ValueError);
}

}  // namespace
}  // namespace xgrad::train
