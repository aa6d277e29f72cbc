namespace VirtTools.Config;

/// <summary>The parts of a host profile, in the order Sync-VirtHostConfig applies them.</summary>
public enum VirtHostArea
{
    /// <summary>KSM first: it changes nothing a later step depends on and cannot cut the host off.</summary>
    Ksm,
    /// <summary>Then the PCI functions handed to vfio-pci or pci-stub.</summary>
    PciPassthrough,
    /// <summary>Then the local devices shared through usbip-host.</summary>
    UsbIpExport,
    /// <summary>Last the remote devices attached to vhci_hcd ports: they may come from exports made just before.</summary>
    UsbIpAttachment,
}
