namespace VirtTools.UsbIp.Host;

/// <summary>
/// What an export does with a hub port its caller holds claimed: <see cref="Release"/> just before usbip-host's bind
/// (whose probe claims the port and fails with EBUSY while someone else holds it), <see cref="Reclaim"/> when the
/// export fails, before the device is handed back, so no host driver takes it meanwhile.
/// </summary>
public sealed record UsbIpPortHandover(Action Release, Action Reclaim);
