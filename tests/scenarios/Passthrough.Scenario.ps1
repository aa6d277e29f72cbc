param($Root)
. "$PSScriptRoot/_Assert.ps1"

# The e1000 of the captured tree is already on vfio-pci: passing it through again is a no-op that outputs it.
$e1000 = @(Get-PciDevice -Root $Root -Class 0x0200 | Set-PciPassthrough -WhatIf)
Assert-Equal 1 $e1000.Count 'one Ethernet function'
Assert-Equal 'vfio-pci' $e1000[0].Driver 'the e1000 stays on vfio-pci'

# -WhatIf on a real change writes neither the record nor the modprobe.d file.
Set-PciPassthrough -Root $Root -Address 00:01.0 -Persist -WhatIf
Assert-True (-not [IO.File]::Exists("$Root/var/lib/virttools/passthrough.json")) '-WhatIf writes no state file'
Assert-True (-not [IO.File]::Exists("$Root/etc/modprobe.d/virttools-vfio-pci.conf")) '-WhatIf writes no modprobe.d file'

# Refusals carry stable ErrorIds.
Assert-Throws { Set-PciPassthrough -Root $Root -Address 00:09.0 -WhatIf -ErrorAction Stop } 'PciDeviceNotFound' 'a missing function'
Assert-Throws { Set-PciPassthrough -Root $Root -Address 00:01.0 -Driver pci-stub -WhatIf -ErrorAction Stop } 'DriverNotLoaded' 'pci-stub is not loaded in the capture'
