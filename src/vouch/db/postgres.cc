#include "vouch/db/postgres.h"

#include <libpq-fe.h>

#include <fmt/format.h>

namespace vouch::db {
namespace {

std::string trimmed(const char* message) {
  std::string msg = message ? message : "";
  while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
  return msg;
}

}  // namespace

void PgResult::Free::operator()(pg_result* r) const { PQclear(r); }

int PgResult::rows() const { return PQntuples(result_.get()); }

std::string_view PgResult::text(int row, int column) const {
  return std::string_view(PQgetvalue(result_.get(), row, column),
                          static_cast<size_t>(PQgetlength(result_.get(), row, column)));
}

int64_t PgResult::num(int row, int column) const { return std::stoll(PQgetvalue(result_.get(), row, column)); }

Bytes PgResult::bytea(int row, int column) const {
  size_t len = 0;
  unsigned char* p =
      PQunescapeBytea(reinterpret_cast<const unsigned char*>(PQgetvalue(result_.get(), row, column)), &len);
  if (!p) return {};
  Bytes out(p, p + len);
  PQfreemem(p);
  return out;
}

bool PgResult::is_null(int row, int column) const { return PQgetisnull(result_.get(), row, column) != 0; }

void PgConnection::Finish::operator()(pg_conn* c) const { PQfinish(c); }

Result<PgConnection> PgConnection::connect(const std::string& url) {
  PgConnection c;
  c.conn_.reset(PQconnectdb(url.c_str()));
  if (!c.conn_ || PQstatus(c.conn_.get()) != CONNECTION_OK)
    return io_error(fmt::format("postgres: connect: {}", c.conn_ ? trimmed(PQerrorMessage(c.conn_.get())) : "out of memory"));
  if (!c.exec("SET synchronous_commit = on").ok()) return io_error("postgres: cannot set synchronous_commit");
  return c;
}

Result<PgResult> PgConnection::exec(std::string_view sql, const std::vector<PgParam>& params) {
  std::vector<const char*> values;
  std::vector<int> lengths, formats;
  values.reserve(params.size());
  lengths.reserve(params.size());
  formats.reserve(params.size());
  for (const PgParam& p : params) {
    values.push_back(p.value.data());
    lengths.push_back(static_cast<int>(p.value.size()));
    formats.push_back(p.binary ? 1 : 0);
  }
  PgResult r(PQexecParams(conn_.get(), std::string(sql).c_str(), static_cast<int>(params.size()), nullptr,
                          values.data(), lengths.data(), formats.data(), 0));
  auto status = PQresultStatus(r.result_.get());
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK)
    return io_error(fmt::format("postgres: {}", trimmed(r.result_ ? PQresultErrorMessage(r.result_.get())
                                                                   : PQerrorMessage(conn_.get()))));
  return r;
}

Status PgConnection::exec_script(std::string_view sql) {
  PgResult r(PQexec(conn_.get(), std::string(sql).c_str()));
  if (PQresultStatus(r.result_.get()) != PGRES_COMMAND_OK)
    return io_error(fmt::format("postgres: {}", trimmed(r.result_ ? PQresultErrorMessage(r.result_.get())
                                                                   : PQerrorMessage(conn_.get()))));
  return ok_status();
}

bool PgConnection::healthy() const { return conn_ && PQstatus(conn_.get()) == CONNECTION_OK; }

void PgConnection::reset() {
  if (conn_) PQreset(conn_.get());
}

}  // namespace vouch::db
