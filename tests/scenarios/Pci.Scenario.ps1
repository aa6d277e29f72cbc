# PCI read side on the captured kernel tree: an admin finds the NIC handed to vfio, checks its group and its interrupt line.
param($Root)
. "$PSScriptRoot/_Assert.ps1"

$nic = Get-PciDevice -Root $Root -Class 0x0200
Assert-Equal '0000:00:02.0' $nic.Address 'the only Ethernet controller is the e1000'
Assert-Equal 'vfio-pci' $nic.Driver 'the e1000 is bound to vfio-pci'
Assert-True $nic.IsVfioBound 'vfio-dev/ marks it vfio-bound'

$group = $nic | Get-IommuGroup
Assert-Equal 2 $group.Group 'the e1000 sits alone in group 2'
Assert-True $group.IsViable 'a group whose only member is on vfio-pci is viable'

$ich9 = Get-IommuGroup -Root $Root -Group 4
Assert-Equal 3 @($ich9.Address).Count 'group 4 holds the ISA bridge, SATA and SMBus functions'
Assert-True $ich9.IsViable 'all three are unbound in this capture'

$xhci = Get-PciDevice -Root $Root 00:01.0
Assert-Equal 3 $xhci.MsiVectors 'the xHCI has msi_irqs 25-27'
Assert-Equal 'MsiX' "$($xhci.MsiKind)" 'its vectors are MSI-X'
Assert-Equal 'A' "$($xhci.InterruptPin)" 'it still has INTA'

$line10 = @(Get-PciDevice -Root $Root | Get-PciIrqShare | Where-Object Irq -eq 10)
Assert-Equal 2 $line10[0].Address.Count 'SATA and SMBus are wired to IRQ 10'
Assert-True (-not $line10[0].Shared) 'no driver holds IRQ 10, so it is not shared'
Assert-True (-not $line10[0].Blocks) 'and it blocks nothing'

Assert-Null (Get-PciDevice -Root $Root 00:09.0 -ErrorAction SilentlyContinue) 'an absent address gives no object'
Assert-Throws { Get-PciDevice -Root $Root 00:09.0 -ErrorAction Stop } 'PciDeviceNotFound' 'an absent address is PciDeviceNotFound'
