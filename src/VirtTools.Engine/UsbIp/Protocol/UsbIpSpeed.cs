namespace VirtTools.UsbIp.Protocol;

/// <summary>enum usb_device_speed as usbip_usb_device carries it.</summary>
public enum UsbIpSpeed : uint
{
    Unknown = 0,
    Low = 1,
    Full = 2,
    High = 3,
    Wireless = 4,
    Super = 5,
    SuperPlus = 6,
}

public static class UsbIpSpeeds
{
    /// <summary>The signalling rate in Mbit/s, as sysfs "speed" prints it (1.5 for low speed); null when unknown.</summary>
    public static double? ToMbps(UsbIpSpeed speed) => speed switch
    {
        UsbIpSpeed.Low => 1.5,
        UsbIpSpeed.Full => 12,
        UsbIpSpeed.High => 480,
        UsbIpSpeed.Wireless => 480,
        UsbIpSpeed.Super => 5000,
        UsbIpSpeed.SuperPlus => 10000,
        _ => null,
    };

    /// <summary>
    /// The speed from the text of the sysfs "speed" attribute ("480", "5000", "53.3-480"), as usbipd's
    /// read_attr_speed maps it; SuperSpeedPlus rates (10000, 20000) are SuperPlus.
    /// </summary>
    public static UsbIpSpeed FromSysfs(string? text) => text?.Trim() switch
    {
        "1.5" => UsbIpSpeed.Low,
        "12" => UsbIpSpeed.Full,
        "480" => UsbIpSpeed.High,
        "53.3-480" => UsbIpSpeed.Wireless,
        "5000" => UsbIpSpeed.Super,
        "10000" or "20000" => UsbIpSpeed.SuperPlus,
        _ => UsbIpSpeed.Unknown,
    };
}
