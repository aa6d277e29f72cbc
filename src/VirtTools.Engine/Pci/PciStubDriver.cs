namespace VirtTools.Pci;

/// <summary>The drivers passthrough hands functions to: they claim a device without using it, so a VM can.</summary>
public static class PciStubDriver
{
    public const string VfioPci = "vfio-pci";
    public const string PciStub = "pci-stub";
}
