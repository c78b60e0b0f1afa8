// Field lists of plain structs, and the compile-time check that a list names every member.
//
// A struct that the checkpoint stores whole (engine::RunState and the structs it holds) lists
// its members once, next to their declaration:
//
//   template <class Self>
//   static auto fields(Self& s) { return std::tie(s.a, s.b); }  // every member, in file order
//
// (Self is the struct or the const struct, so one list serves writing and reading.) A member
// added to the struct but not to its list is a state the checkpoint forgets: a resumed run
// goes wrong and nothing says so. lists_every_member<T> counts T's members at compile time
// (T an aggregate: the number of initialisers T{...} accepts) and compares with the list, so
// that the static_assert next to each struct fails to compile instead.
#pragma once

#include <cstddef>
#include <tuple>
#include <type_traits>
#include <utility>

namespace shortfall::util {

namespace detail {

/// Converts to anything (unevaluated only): T{AnyMember{}, ...} is valid for up to as many
/// initialisers as an aggregate T has members (no brace elision: every member is initialised
/// by a conversion of the expression).
struct AnyMember {
  template <class T>
  operator T() const;  // NOLINT: implicit on purpose; never defined
};

template <class T, class... Init>
constexpr std::size_t member_count() {
  if constexpr (requires { T{std::declval<Init>()..., AnyMember{}}; })
    return member_count<T, Init..., AnyMember>();
  else
    return sizeof...(Init);
}

}  // namespace detail

/// The number of members of the aggregate T (no base classes, no array members).
template <class T>
constexpr std::size_t member_count() {
  static_assert(std::is_aggregate_v<T>, "member_count needs an aggregate");
  return detail::member_count<T>();
}

/// T has a field list: static fields(T&) returning a tuple of references.
template <class T>
concept HasFields = requires(T& t) {
  std::tuple_size<decltype(T::fields(t))>::value;
};

/// T's field list names as many members as T has.
template <class T>
constexpr bool lists_every_member() {
  return std::tuple_size_v<decltype(T::fields(std::declval<T&>()))> == member_count<T>();
}

}  // namespace shortfall::util
