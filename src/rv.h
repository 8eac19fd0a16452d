/* rv.h: umbrella header for the endpoint programs */
#ifndef RV_H
#define RV_H

#include "rv-arena.h"
#include "rv-buf.h"
#include "rv-conf.h"
#include "rv-crypto.h"
#include "rv-err.h"
#include "rv-i18n.h"
#include "rv-json.h"
#include "rv-log.h"
#include "rv-main.h"
#include "rv-req.h"
#include "rv-resp.h"
#include "rv-util.h"

#endif
