//! The fuzz targets' byte reader: reads the fuzzer's input front to back, and zeros once it
//! runs out, so every input decodes.

pub struct Bytes<'a>(pub &'a [u8]);

#[allow(dead_code)] // each target uses its own subset
impl Bytes<'_> {
    pub fn u8(&mut self) -> u8 {
        match self.0.split_first() {
            Some((&b, rest)) => {
                self.0 = rest;
                b
            }
            None => 0,
        }
    }

    pub fn u32(&mut self) -> u32 {
        u32::from_le_bytes([self.u8(), self.u8(), self.u8(), self.u8()])
    }

    pub fn pick<'t, T>(&mut self, items: &'t [T]) -> &'t T {
        &items[self.u8() as usize % items.len()]
    }

    pub fn done(&self) -> bool {
        self.0.is_empty()
    }
}
