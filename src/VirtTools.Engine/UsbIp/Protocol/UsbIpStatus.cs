namespace VirtTools.UsbIp.Protocol;

/// <summary>The op_common status of a reply (usbip_network.h ST_*); unknown values pass through as numbers.</summary>
public enum UsbIpStatus : uint
{
    Ok = 0,
    /// <summary>ST_NA: the device is not exported, or the server would not give it to this client.</summary>
    NotAvailable = 1,
    /// <summary>ST_DEV_BUSY: another client has imported it.</summary>
    DeviceBusy = 2,
    /// <summary>ST_DEV_ERR: usbip-host put the device in its error state.</summary>
    DeviceError = 3,
    /// <summary>ST_NODEV: no device with that busid.</summary>
    NoDevice = 4,
    /// <summary>ST_ERROR: anything else went wrong on the server.</summary>
    Error = 5,
}
