/* ons/ONSClientException.h: for programs that include the ONS C++ SDK's headers one by one;
 * everything is in ons/ONSFactory.h. */
#ifndef ONS_CPP_ONSCLIENTEXCEPTION_H
#define ONS_CPP_ONSCLIENTEXCEPTION_H
#include "ONSFactory.h"
#endif
