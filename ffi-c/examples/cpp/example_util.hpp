// Helpers shared by the C++ examples (the C++ twin of ../example_util.h).
#ifndef ONS_CPP_EXAMPLE_UTIL_HPP
#define ONS_CPP_EXAMPLE_UTIL_HPP

#include <ons/ONSFactory.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <ctime>
#include <iostream>
#include <string>
#include <thread>
#include <unistd.h>

// A name unique to this run.
inline std::string unique_name(const std::string& prefix) {
    return prefix + "_" + std::to_string(getpid()) + "_" + std::to_string(std::time(nullptr));
}

// Factory properties with the cluster address (and credentials) from the environment.
inline ons::ONSFactoryProperty example_properties(const std::string& group) {
    const char* addr = std::getenv("NAMESRV_ADDR");
    if (addr == nullptr || addr[0] == '\0') {
        std::cerr << "set NAMESRV_ADDR to the name server address (host:port)" << std::endl;
        std::exit(2);
    }
    ons::ONSFactoryProperty props;
    props.setFactoryProperty(ons::ONSFactoryProperty::NAMESRV_ADDR, addr);
    props.setFactoryProperty(ons::ONSFactoryProperty::GroupId, group);
    const char* ak = std::getenv("ONS_ACCESS_KEY");
    const char* sk = std::getenv("ONS_SECRET_KEY");
    if (ak != nullptr && sk != nullptr) {
        props.setFactoryProperty(ons::ONSFactoryProperty::AccessKey, ak);
        props.setFactoryProperty(ons::ONSFactoryProperty::SecretKey, sk);
    }
    return props;
}

// Creates the topic up front (through the C API's admin calls), so consumers find it at once.
inline void create_topic(const std::string& topic, uint32_t queues) {
    ons::ONSFactoryProperty props = example_properties("GID_ffi_example_admin");
    ons::detail::CProperties c(props);
    ons_admin_t* admin = nullptr;
    ons::detail::check(ons_admin_new(c.get(), &admin));
    int32_t rc = ons_admin_create_topic(admin, topic.c_str(), queues, 0);
    ons_admin_destroy(admin);
    ons::detail::check(rc);
}

inline bool wait_for(const std::atomic<int>& counter, int target, int timeout_s) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
    while (counter.load() < target && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return counter.load() >= target;
}

#endif
