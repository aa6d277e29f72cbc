namespace VirtTools.Pci;

/// <summary>
/// Whether the guest can map the function's BARs. A 32-bit BAR must fit the guest's PCI hole below 4 GiB (QEMU's q35
/// leaves about 1-2 GiB); a 64-bit BAR goes above 4 GiB, into a window the guest firmware (OVMF) sizes, which large
/// GPU and accelerator BARs (resizable BAR: 8-32 GiB) can outgrow, so the VM boots without the device's memory.
/// </summary>
public static class LargeBars
{
    public const string Check = "Bars";
    public const ulong Large32Bit = 256UL << 20, Large64Bit = 4UL << 30;

    public static PciReadinessFinding Judge(Sysfs.SystemRoot root, PciDevice device)
    {
        var resourcePath = device.SysfsPath + "/resource";
        if (PciBar.Read(root, resourcePath) is not { } bars)
            return new(Check, PciReadinessResult.Unknown, $"{resourcePath}: missing", "The function's BARs could not be read.");
        var evidence = $"{resourcePath}: {(bars.Count == 0 ? "no BARs in use" : string.Join(", ", bars))}";
        var memory = bars.Where(b => b.IsMemory).ToList();
        var low = memory.Where(b => !b.Is64Bit && b.Size >= Large32Bit).ToList();
        var high = memory.Where(b => b.Is64Bit && b.Size >= Large64Bit).ToList();
        if (low.Count > 0)
            return new(Check, PciReadinessResult.Warn, evidence,
                $"{string.Join(", ", low.Select(b => $"BAR{b.Index}"))} is a large 32-bit BAR: it must fit the guest's PCI hole below 4 GiB, which a q35 guest keeps to about 1-2 GiB.");
        if (high.Count > 0)
            return new(Check, PciReadinessResult.Warn, evidence,
                $"{string.Join(", ", high.Select(b => $"BAR{b.Index} ({PciBar.SizeText(b.Size)})"))} needs a 64-bit MMIO window at least that large in the guest: boot it with UEFI (OVMF) and raise the window if the device shows no memory (QEMU: -fw_cfg name=opt/ovmf/X-PciMmio64Mb,string=<MiB>).");
        return new(Check, PciReadinessResult.Pass, evidence,
            memory.Any(b => b.Is64Bit)
                ? "Its 64-bit BARs are small enough for any guest firmware's 64-bit window."
                : "Its BARs are small 32-bit windows any guest can map.");
    }
}
