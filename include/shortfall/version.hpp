#pragma once
namespace shortfall {
inline constexpr const char* kVersion = "0.1.0";
}
