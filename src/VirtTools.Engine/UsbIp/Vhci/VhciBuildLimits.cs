namespace VirtTools.UsbIp.Vhci;

/// <summary>The ceilings no vhci-hcd build can pass, as mainline Linux sets them.</summary>
public static class VhciBuildLimits
{
    /// <summary>CONFIG_USBIP_VHCI_HC_PORTS range 1–15 (drivers/usb/usbip/Kconfig): USB_SS_MAXPORTS for the USB 3 hub.</summary>
    public const int MaxPortsPerHub = 15;

    /// <summary>CONFIG_USBIP_VHCI_NR_HCS range 1–128 (drivers/usb/usbip/Kconfig).</summary>
    public const int MaxControllers = 128;

    /// <summary>USB_MAXBUS in drivers/usb/core/hcd.c: bus numbers come from idr_alloc(…, 1, USB_MAXBUS), so 1–63.</summary>
    public const int UsbMaxBus = 64;

    /// <summary>Every vhci_hcd controller registers two USB buses: its high-speed and its SuperSpeed root hub.</summary>
    public const int BusesPerController = 2;
}
