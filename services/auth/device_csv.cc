#include "services/auth/device_csv.h"

#include <algorithm>
#include <map>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "services/auth/device_validation.h"

namespace updraft {
namespace {

absl::Status RowError(int row, absl::string_view problem) {
  return absl::InvalidArgumentError(absl::StrCat("row ", row, ": ", problem));
}

// Splits RFC 4180 CSV into records of fields. Records end at "\n" or
// "\r\n"; a record that is one empty line has no fields.
class CsvReader {
 public:
  explicit CsvReader(absl::string_view text) : text_(text) {}

  // Reads the next record; false at the end of input.
  absl::StatusOr<bool> Next(std::vector<std::string>* fields) {
    fields->clear();
    if (pos_ >= text_.size()) return false;
    ++row_;
    if (text_[pos_] == '\n' || text_.substr(pos_, 2) == "\r\n") {
      pos_ += text_[pos_] == '\n' ? 1 : 2;
      return true;
    }
    for (;;) {
      std::string field;
      if (pos_ < text_.size() && text_[pos_] == '"') {
        ++pos_;
        for (;;) {
          if (pos_ >= text_.size()) return RowError(row_, "unterminated quoted field");
          char c = text_[pos_++];
          if (c == '"') {
            if (pos_ < text_.size() && text_[pos_] == '"') {
              field.push_back('"');
              ++pos_;
              continue;
            }
            break;
          }
          field.push_back(c);
        }
        if (pos_ < text_.size() && text_[pos_] != ',' && text_[pos_] != '\n' &&
            text_.substr(pos_, 2) != "\r\n") {
          return RowError(row_, "unexpected character after a closing quote");
        }
      } else {
        while (pos_ < text_.size() && text_[pos_] != ',' && text_[pos_] != '\n' &&
               text_.substr(pos_, 2) != "\r\n") {
          if (text_[pos_] == '"') return RowError(row_, "quote inside an unquoted field");
          field.push_back(text_[pos_++]);
        }
      }
      fields->push_back(std::move(field));
      if (pos_ >= text_.size()) return true;
      if (text_[pos_] == ',') {
        ++pos_;
        continue;
      }
      pos_ += text_[pos_] == '\n' ? 1 : 2;
      return true;
    }
  }

  int row() const { return row_; }

 private:
  absl::string_view text_;
  size_t pos_ = 0;
  int row_ = 0;
};

absl::Status Prefix(int row, const absl::Status& s) { return RowError(row, s.message()); }

}  // namespace

absl::StatusOr<std::vector<CsvDevice>> ParseDeviceCsv(absl::string_view csv, size_t max_rows) {
  if (absl::StartsWith(csv, "\xEF\xBB\xBF")) csv.remove_prefix(3);
  if (!IsValidUtf8(csv)) return absl::InvalidArgumentError("the CSV is not valid UTF-8");
  CsvReader reader(csv);
  std::vector<std::string> header;
  absl::StatusOr<bool> more = reader.Next(&header);
  if (!more.ok()) return more.status();
  if (!*more) return absl::InvalidArgumentError("the CSV is empty; row 1 must be the header");
  for (std::string& h : header) absl::StripAsciiWhitespace(&h);
  if (header.size() < 3 || header[0] != "device_id" || header[1] != "key_type" ||
      header[2] != "public_key") {
    return RowError(1,
                    absl::StrCat("the header must start with device_id,key_type,public_key; got '",
                                 absl::CEscape(absl::StrJoin(header, ",")), "'"));
  }
  absl::flat_hash_set<std::string> attribute_names;
  for (size_t i = 3; i < header.size(); ++i) {
    if (header[i].empty() || header[i].size() > kMaxAttributeKeyLength ||
        !std::all_of(header[i].begin(), header[i].end(), IsIdChar)) {
      return RowError(1, absl::StrCat("attribute column '", absl::CEscape(header[i]),
                                      "' must be 1..64 characters of [A-Za-z0-9._:-]"));
    }
    if (!attribute_names.insert(header[i]).second) {
      return RowError(1, absl::StrCat("attribute column ", header[i], " appears twice"));
    }
  }
  if (header.size() - 3 > kMaxAttributes) {
    return RowError(1, absl::StrCat("at most ", kMaxAttributes, " attribute columns allowed"));
  }

  std::vector<CsvDevice> out;
  absl::flat_hash_map<std::string, int> first_row;
  std::vector<std::string> fields;
  for (;;) {
    more = reader.Next(&fields);
    if (!more.ok()) return more.status();
    if (!*more) break;
    int row = reader.row();
    if (fields.empty()) continue;
    if (fields.size() != header.size()) {
      return RowError(
          row, absl::StrCat("has ", fields.size(), " fields; the header has ", header.size()));
    }
    if (out.size() >= max_rows) {
      return absl::InvalidArgumentError(
          absl::StrCat("the CSV has more than ", max_rows, " device rows; split it"));
    }
    CsvDevice d;
    d.row = row;
    d.device.device_id = std::string(absl::StripAsciiWhitespace(fields[0]));
    absl::Status id = ValidateDeviceId(d.device.device_id);
    if (!id.ok()) return Prefix(row, id);
    auto type = ParseKeyType(absl::StripAsciiWhitespace(fields[1]));
    if (!type.ok()) return RowError(row, absl::StrCat("key_type: ", type.status().message()));
    d.device.key_type = *type;
    if (!absl::WebSafeBase64Unescape(absl::StripAsciiWhitespace(fields[2]), &d.device.public_key)) {
      return RowError(row, "public_key is not base64url");
    }
    absl::Status key = ValidatePublicKey(*type, d.device.public_key);
    if (!key.ok()) return RowError(row, absl::StrCat("public_key: ", key.message()));
    for (size_t i = 3; i < fields.size(); ++i) {
      if (!fields[i].empty()) d.device.attributes[header[i]] = fields[i];
    }
    absl::Status attrs = ValidateAttributes(d.device.attributes);
    if (!attrs.ok()) return Prefix(row, attrs);
    auto [it, inserted] = first_row.emplace(d.device.device_id, row);
    if (!inserted) {
      return RowError(row, absl::StrCat("device ", d.device.device_id,
                                        " appears again (first in row ", it->second, ")"));
    }
    d.device.status = DeviceStatus::kAccepted;
    out.push_back(std::move(d));
  }
  if (out.empty()) return absl::InvalidArgumentError("the CSV has no device rows");
  return out;
}

}  // namespace updraft
