namespace VirtTools.UsbIp;

/// <summary>The two root hubs of every vhci_hcd controller: USB 2 (low/full/high speed devices) and USB 3.</summary>
public enum VhciHub
{
    HighSpeed,
    SuperSpeed,
}
