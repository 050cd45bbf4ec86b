// COpenSSL: the parts of libcrypto recfs uses (AES-256-GCM, SHA-256, random bytes).
#ifndef RECFS_COPENSSL_SHIM_H
#define RECFS_COPENSSL_SHIM_H
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/err.h>
#include <openssl/crypto.h>

// Control codes are macros; expose them as constants Swift can see.
static const int recfs_EVP_CTRL_GCM_SET_IVLEN = EVP_CTRL_GCM_SET_IVLEN;
static const int recfs_EVP_CTRL_GCM_GET_TAG = EVP_CTRL_GCM_GET_TAG;
static const int recfs_EVP_CTRL_GCM_SET_TAG = EVP_CTRL_GCM_SET_TAG;
#endif
