#!/bin/sh
# .ci/gpu-deps.sh — software WebGPU for CI on Debian 12 (bookworm), run as root.
#
# Installs Mesa's lavapipe (software Vulkan) from bookworm-backports plus the Vulkan
# loader, so onnxruntime-node's bundled WebGPU EP (Dawn) finds an adapter on a machine
# without a GPU. Debian 12's own Mesa 22.3 lavapipe is rejected by Dawn; Mesa >= 24
# from bookworm-backports works. Idempotent: safe to run again.
#
# Environment for the test process (this script needs none):
#   VK_DRIVER_FILES=/usr/share/vulkan/icd.d/lvp_icd.json
#       Makes the Vulkan loader use lavapipe only. Optional on a machine whose only
#       ICD is lavapipe (the loader's default search finds it), recommended in CI so
#       no other installed ICD (intel, radeon, virtio, ...) is probed. Debian's Mesa
#       25.0.7-2~bpo12+1 ships lvp_icd.json (Mesa 22.3 shipped lvp_icd.x86_64.json).
#       VK_ICD_FILENAMES is the older name of the same variable; loader 1.3.239 honours
#       both.
#   VK_LOADER_DEBUG=driver              (optional) show which ICD json / .so the loader
#                                       opens; a missing driver prints "Found no drivers"
#   MESA_SHADER_CACHE_DIR=DIR           (optional) lavapipe's compiled-shader cache
#                                       (default ~/.cache/mesa_shader_cache_db); caching
#                                       it between CI runs cuts the first session.run
#                                       from ~1.3-1.8 s to ~30 ms on the smoke model.
# Check: node scripts/webgpu-smoke.cjs   (WebGPU vs CPU vs float64 reference, placement)
#
# Confirming node placement from Node (onnxruntime-node 1.30):
#   - session option { logSeverityLevel: 0, logVerbosityLevel: 0 } prints to stderr
#       "Node placements" then " All nodes placed on [WebGpuExecutionProvider]. Number
#       of nodes: N", or " Node(s) placed on [CPUExecutionProvider]. Number of nodes: K"
#       followed by the CPU nodes' op types and names;
#   - at the default level (2, warning) a partial placement prints "Some nodes were not
#       assigned to the preferred execution providers";
#   - { enableProfiling: true, profileFilePrefix: P } then session.endProfiling():
#       P_<date>.json; every event with cat "Node" has args.provider.
# Without a usable Vulkan driver, InferenceSession.create rejects with "Failed to get a
# WebGPU adapter: No supported adapters" (Mesa 22.3's lavapipe: Dawn logs "Vulkan
# shaderUniform*ArrayDynamicIndexing required"). Dawn's "maxDynamic*BuffersPerPipelineLayout
# artificially reduced" warnings on stderr are harmless.
set -eu

export DEBIAN_FRONTEND=noninteractive

if [ "$(id -u)" != 0 ]; then
  echo "gpu-deps.sh: run as root" >&2
  exit 1
fi
. /etc/os-release
if [ "${VERSION_CODENAME:-}" != bookworm ]; then
  echo "gpu-deps.sh: expected Debian 12 (bookworm), found ${PRETTY_NAME:-unknown}" >&2
  exit 1
fi

# 1. bookworm-backports source (skip if any source already lists it).
if ! grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
  echo 'deb http://deb.debian.org/debian bookworm-backports main' \
    > /etc/apt/sources.list.d/bookworm-backports.list
  echo "gpu-deps.sh: added /etc/apt/sources.list.d/bookworm-backports.list"
fi

# 2. Mesa (lavapipe) from backports; the Vulkan loader. -t makes apt take the backports
#    versions of mesa's own dependencies (libdrm, libllvm, libvulkan1 ...) where needed.
apt-get update -qq
apt-get install -y -q --no-install-recommends -t bookworm-backports \
  mesa-vulkan-drivers libvulkan1

# 3. Report.
# Debian's Mesa 25 names it lvp_icd.json (22.3 used lvp_icd.x86_64.json).
ICD=
for f in /usr/share/vulkan/icd.d/lvp_icd.json /usr/share/vulkan/icd.d/lvp_icd.x86_64.json; do
  if [ -f "$f" ]; then ICD=$f; break; fi
done
if [ -z "$ICD" ]; then
  echo "gpu-deps.sh: no lavapipe ICD json under /usr/share/vulkan/icd.d after install" >&2
  exit 1
fi
echo "gpu-deps.sh: installed:"
dpkg-query -W -f='  ${Package} ${Version}\n' mesa-vulkan-drivers mesa-libgallium \
  libvulkan1 libdrm2 libllvm15
echo "gpu-deps.sh: lavapipe ICD: $ICD"
echo "gpu-deps.sh: export VK_DRIVER_FILES=$ICD VK_ICD_FILENAMES=$ICD"
